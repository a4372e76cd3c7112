package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dtecl/pipeline/shared/errs"
)

// S3 is the Store on an S3-compatible server (versitygw, MinIO, AWS S3,
// gofakes3). It is safe for concurrent use.
type S3 struct {
	client *s3.Client
	cfg    S3Config
}

var _ Store = (*S3)(nil)

// NewS3 builds the client by hand (no aws config package: it would read
// ~/.aws and the AWS_* environment): static credentials, path-style
// addressing, the given region, a bounded standard retryer and an HTTP
// transport with its own connect and header timeouts. It does no I/O.
func NewS3(cfg S3Config) (*S3, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = cfg.MaxAttempts
		o.MaxBackoff = 2 * time.Second
		// The default client-side token bucket makes a burst of failures
		// fail fast with "retry quota exceeded" long after S3 is back; the
		// operation timeout already bounds the work.
		o.RateLimiter = ratelimit.None
	})
	client := s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		Retryer:      retryer,
		HTTPClient:   newHTTPClient(),
		// Checksums only where S3 requires them: the SDK's default adds
		// aws-chunked trailing CRCs, which not every S3-compatible server
		// accepts, and our objects are small single PUTs.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &S3{client: client, cfg: cfg}, nil
}

// newHTTPClient bounds every phase of a request that the operation timeout
// would otherwise have to catch.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}}
}

// Bucket is the bucket this store writes to.
func (s *S3) Bucket() string { return s.cfg.Bucket }

// Endpoint is the server's base URL.
func (s *S3) Endpoint() string { return s.cfg.Endpoint }

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (Object, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return Object{}, s.classify("get", key, err)
	}
	defer out.Body.Close()
	if out.ContentLength != nil && *out.ContentLength > s.cfg.MaxObjectSize {
		return Object{}, s.tooLarge("get", key, *out.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(out.Body, s.cfg.MaxObjectSize+1))
	if err != nil {
		return Object{}, s.classify("get", key, err)
	}
	if int64(len(body)) > s.cfg.MaxObjectSize {
		return Object{}, s.tooLarge("get", key, int64(len(body)))
	}
	return Object{
		Key:         key,
		Body:        body,
		ETag:        aws.ToString(out.ETag),
		ContentType: aws.ToString(out.ContentType),
		Metadata:    out.Metadata,
	}, nil
}

// Head implements Store.
func (s *S3) Head(ctx context.Context, key string) (Object, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return Object{}, s.classify("head", key, err)
	}
	return Object{Key: key, ETag: aws.ToString(out.ETag), ContentType: aws.ToString(out.ContentType), Metadata: out.Metadata}, nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, body []byte, opts PutOptions) (string, error) {
	if int64(len(body)) > s.cfg.MaxObjectSize {
		return "", s.tooLarge("put", key, int64(len(body)))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	in := &s3.PutObjectInput{
		Bucket:        &s.cfg.Bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      opts.Metadata,
	}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	if opts.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(opts.IfNoneMatch)
	}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(opts.IfMatch)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		err = s.classify("put", key, err)
		if errors.Is(err, errPrecondition) || errors.Is(err, errCondConflict) {
			if opts.IfNoneMatch != "" {
				return "", fmt.Errorf("s3 put %s/%s: %w", s.cfg.Bucket, key, ErrExists)
			}
			return "", fmt.Errorf("s3 put %s/%s: %w", s.cfg.Bucket, key, ErrConflict)
		}
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:  &s.cfg.Bucket,
		Prefix:  aws.String(prefix),
		MaxKeys: aws.Int32(s.cfg.ListPageSize),
	}, func(o *s3.ListObjectsV2PaginatorOptions) { o.StopOnDuplicateToken = true })
	var infos []ObjectInfo
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.classify("list", prefix, err)
		}
		for _, o := range page.Contents {
			infos = append(infos, ObjectInfo{
				Key:          aws.ToString(o.Key),
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
				ETag:         aws.ToString(o.ETag),
			})
		}
	}
	return infos, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		err = s.classify("delete", key, err)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// EnsureBucket creates the bucket when it does not exist yet. It is
// idempotent and safe to race with another instance doing the same.
func (s *S3) EnsureBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.cfg.Bucket})
	if err == nil {
		return nil
	}
	if statusOf(err) != http.StatusNotFound {
		return s.classify("head bucket", "", err)
	}
	in := &s3.CreateBucketInput{Bucket: &s.cfg.Bucket}
	if s.cfg.Region != DefaultRegion {
		// us-east-1 is the one region that must not be named here.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.cfg.Region),
		}
	}
	_, err = s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	switch {
	case err == nil, errors.As(err, &owned):
		return nil
	case errors.As(err, &exists):
		// Either another instance won the race (fine) or the name belongs
		// to someone else (HeadBucket then says 403).
		if _, herr := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.cfg.Bucket}); herr != nil {
			return s.classify("head bucket", "", herr)
		}
		return nil
	default:
		return s.classify("create bucket", "", err)
	}
}

func (s *S3) tooLarge(op, key string, n int64) error {
	return errs.Permanentf("s3 %s %s/%s: %w: %d bytes, limit %d", op, s.cfg.Bucket, key, ErrTooLarge, n, s.cfg.MaxObjectSize)
}

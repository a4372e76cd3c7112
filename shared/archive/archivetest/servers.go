package archivetest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/testenv"
)

// Server is a real S3 server of the integration tests, as
// scripts/s3-server.sh runs them: versitygw (TEST_S3_*) and MinIO
// (TEST_MINIO_*).
type Server struct {
	Name     string // "versitygw" or "minio": what subtests are named for
	Endpoint string
	// AccessKey and SecretKey are the server's root keys.
	AccessKey, SecretKey string
	// KMSKey is the KMS key SSE-KMS buckets are encrypted with (MinIO's
	// MINIO_KMS_SECRET_KEY name); "" where the server has no KMS.
	KMSKey string
	// Hint tells how to start the server, for the skip message.
	Hint string
}

// The local keys and endpoint of scripts/s3-server.sh: the functions'
// defaults, declared once in shared/config.
var (
	localAccessKey = config.DefaultOf(config.S3{}, "S3_ACCESS_KEY")
	localSecretKey = config.DefaultOf(config.S3{}, "S3_SECRET_KEY")
	localEndpoint  = config.DefaultOf(config.S3{}, "S3_ENDPOINT")
)

// Versitygw is the versitygw of scripts/s3-server.sh (TEST_S3_ENDPOINT,
// TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY).
func Versitygw() Server {
	return Server{
		Name:      "versitygw",
		Endpoint:  envOr("TEST_S3_ENDPOINT", localEndpoint),
		AccessKey: envOr("TEST_S3_ACCESS_KEY", localAccessKey),
		SecretKey: envOr("TEST_S3_SECRET_KEY", localSecretKey),
		Hint:      "scripts/s3-server.sh start, or set TEST_S3_ENDPOINT",
	}
}

// MinIO is the MinIO of `scripts/s3-server.sh minio` (TEST_MINIO_ENDPOINT,
// TEST_MINIO_ACCESS_KEY, TEST_MINIO_SECRET_KEY, TEST_MINIO_KMS_KEY).
func MinIO() Server {
	return Server{
		Name:      "minio",
		Endpoint:  envOr("TEST_MINIO_ENDPOINT", "http://127.0.0.1:7080"),
		AccessKey: envOr("TEST_MINIO_ACCESS_KEY", localAccessKey),
		SecretKey: envOr("TEST_MINIO_SECRET_KEY", localSecretKey),
		KMSKey:    envOr("TEST_MINIO_KMS_KEY", "dte-local"),
		Hint:      "scripts/s3-server.sh minio start, or set TEST_MINIO_ENDPOINT",
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Require skips the test when nothing listens at the server's endpoint,
// and fails it instead under make test and CI, where the server is part of
// the run (shared/testenv).
func (s Server) Require(t testing.TB) {
	t.Helper()
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatalf("%s endpoint %q: %v", s.Name, s.Endpoint, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		testenv.Unavailable(t, "no %s at %s (%s): %v", s.Name, s.Endpoint, s.Hint, err)
	}
	conn.Close()
}

// Config is the archive configuration for bucket on this server.
func (s Server) Config(bucket string) archive.S3Config {
	return archive.S3Config{
		Endpoint: s.Endpoint, Bucket: bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey,
		Timeout: 10 * time.Second,
	}
}

// BucketKind is how a test bucket is set up.
type BucketKind struct {
	// Versioned turns versioning on: every write keeps the previous
	// version, and deletes leave delete markers.
	Versioned bool
	// Encryption is the bucket's default encryption: "" (none), "AES256"
	// (SSE-S3) or "aws:kms" (SSE-KMS with the server's KMSKey).
	Encryption types.ServerSideEncryption
}

// Bucket requires the server, creates bucket on it (idempotent) set up as
// kind, and returns its archive configuration.
func (s Server) Bucket(t testing.TB, bucket string, kind BucketKind) archive.S3Config {
	t.Helper()
	s.Require(t)
	cfg := s.Config(bucket)
	store, err := archive.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatalf("%s: create bucket %s: %v", s.Name, bucket, err)
	}
	client := Client(cfg)
	if kind.Versioned {
		_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  &cfg.Bucket,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		})
		if err != nil {
			t.Fatalf("%s: turn versioning on for %s: %v", s.Name, bucket, err)
		}
	}
	if kind.Encryption != "" {
		def := &types.ServerSideEncryptionByDefault{SSEAlgorithm: kind.Encryption}
		if kind.Encryption == types.ServerSideEncryptionAwsKms {
			if s.KMSKey == "" {
				t.Fatalf("%s has no KMS key for an SSE-KMS bucket", s.Name)
			}
			def.KMSMasterKeyID = aws.String(s.KMSKey)
		}
		_, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: &cfg.Bucket,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
				Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: def}},
			},
		})
		if err != nil {
			t.Fatalf("%s: default encryption %s for %s: %v", s.Name, kind.Encryption, bucket, err)
		}
	}
	return cfg
}

// Client is a plain SDK client for the bucket's server, for what the
// archive does not do itself: bucket set-up, multipart uploads, versions.
func Client(cfg archive.S3Config) *s3.Client {
	region := cfg.Region
	if region == "" {
		region = archive.DefaultRegion
	}
	return s3.New(s3.Options{
		Region:                     region,
		BaseEndpoint:               aws.String(cfg.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// PutMultipart writes key as a multipart upload of one part, as a restore
// tool or `mc pipe` does: its ETag then ends in "-1" and is not the MD5 of
// the body. It returns that ETag.
func PutMultipart(ctx context.Context, cfg archive.S3Config, key string, body []byte, contentType string) (string, error) {
	client := Client(cfg)
	up, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &cfg.Bucket, Key: &key, ContentType: aws.String(contentType)})
	if err != nil {
		return "", err
	}
	part, err := client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &cfg.Bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return "", errors.Join(err, abort(ctx, client, cfg.Bucket, key, up.UploadId))
	}
	done, err := client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &cfg.Bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
	})
	if err != nil {
		return "", errors.Join(err, abort(ctx, client, cfg.Bucket, key, up.UploadId))
	}
	return aws.ToString(done.ETag), nil
}

func abort(ctx context.Context, client *s3.Client, bucket, key string, id *string) error {
	_, err := client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: id})
	return err
}

// Versions lists every version and delete marker under prefix, as
// "key@versionID" (delete markers with a trailing " (delete marker)").
func Versions(ctx context.Context, cfg archive.S3Config, prefix string) ([]string, error) {
	client := Client(cfg)
	p := s3.NewListObjectVersionsPaginator(client, &s3.ListObjectVersionsInput{Bucket: &cfg.Bucket, Prefix: &prefix})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range page.Versions {
			out = append(out, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId)+" (delete marker)")
		}
	}
	return out, nil
}

// Target is one server and bucket kind the integration tests run on.
type Target struct {
	Name   string // subtest name: "versitygw", "minio", "minio-sse-kms", "minio-versioned"
	Server Server
	Kind   BucketKind
	suffix string // appended to the bucket name, one bucket per kind
}

// Targets are the servers and bucket kinds every S3 integration test
// covers: versitygw, and MinIO with a plain bucket, an SSE-KMS bucket
// (opaque ETags) and a versioned bucket.
func Targets() []Target {
	vgw, minio := Versitygw(), MinIO()
	return []Target{
		{Name: "versitygw", Server: vgw},
		{Name: "minio", Server: minio},
		{Name: "minio-sse-kms", Server: minio, Kind: BucketKind{Encryption: types.ServerSideEncryptionAwsKms}, suffix: "-kms"},
		{Name: "minio-versioned", Server: minio, Kind: BucketKind{Versioned: true}, suffix: "-versioned"},
	}
}

// SSES3 is MinIO with an SSE-S3 bucket, whose ETags stay MD5s.
func SSES3() Target {
	return Target{Name: "minio-sse-s3", Server: MinIO(), Kind: BucketKind{Encryption: types.ServerSideEncryptionAes256}, suffix: "-sse-s3"}
}

// BucketName is the bucket of this target for a test family's base name.
func (t Target) BucketName(base string) string { return base + t.suffix }

// Bucket requires the server and sets the target's bucket up (see
// Server.Bucket).
func (t Target) Bucket(tb testing.TB, base string) archive.S3Config {
	tb.Helper()
	return t.Server.Bucket(tb, t.BucketName(base), t.Kind)
}

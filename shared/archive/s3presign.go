package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dtecl/pipeline/shared/errs"
)

// MaxPresignExpiry is the longest a presigned URL can live: SigV4 refuses
// more than seven days.
const MaxPresignExpiry = 7 * 24 * time.Hour

// PresignGet returns a URL that downloads key without credentials until it
// expires: a link to hand to someone who has no access to the bucket. It
// is signed locally (no request is made), so it says nothing about whether
// the object exists; check that first.
func (s *S3) PresignGet(ctx context.Context, key string, expires time.Duration) (string, error) {
	if expires <= 0 || expires > MaxPresignExpiry {
		return "", errs.Permanentf("presign %s: expiry %v: want more than 0 and at most %v", key, expires, MaxPresignExpiry)
	}
	req, err := s3.NewPresignClient(s.client).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key},
		s3.WithPresignExpires(expires))
	if err != nil {
		return "", fmt.Errorf("presign %s/%s: %w", s.cfg.Bucket, key, err)
	}
	return req.URL, nil
}

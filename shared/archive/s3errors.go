package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/dtecl/pipeline/shared/errs"
)

// Internal outcomes of a conditional PutObject; Put turns them into
// ErrExists or ErrConflict depending on which condition it sent.
var (
	errPrecondition = errors.New("precondition failed")
	// errCondConflict is AWS's 409 ConditionalRequestConflict: another
	// conditional write to the same key was in flight. Same meaning for us.
	errCondConflict = errors.New("conditional request conflict")
)

// Error codes that say the configuration is wrong, not the request.
var configCodes = map[string]bool{
	"AccessDenied":                 true,
	"AllAccessDisabled":            true,
	"AccountProblem":               true,
	"InvalidAccessKeyId":           true,
	"SignatureDoesNotMatch":        true,
	"AuthorizationHeaderMalformed": true,
	"InvalidToken":                 true,
	"ExpiredToken":                 true,
	"NoSuchBucket":                 true,
	"InvalidBucketName":            true,
	"RequestTimeTooSkewed":         true,
	"PermanentRedirect":            true, // wrong region or endpoint
	"XAdminUserNotFound":           true, // versitygw's 404 for an unknown access key
}

// Error codes for a request that will never succeed as sent.
var permanentCodes = map[string]bool{
	"InvalidArgument":     true,
	"InvalidObjectName":   true,
	"KeyTooLongError":     true,
	"EntityTooLarge":      true,
	"MetadataTooLarge":    true,
	"MalformedXML":        true,
	"InvalidRequest":      true,
	"InvalidStorageClass": true,
}

// classify wraps an SDK error with the operation, bucket and key, and with
// the sentinel or the errs mark that tells the caller what to do.
// Everything not recognised stays transient: S3 unreachable, timeouts,
// 5xx, throttling (SlowDown, 429), RequestTimeout, BadDigest.
func (s *S3) classify(op, key string, err error) error {
	where := s.cfg.Bucket
	if key != "" {
		where += "/" + key
	}
	code, status := codeOf(err), statusOf(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("s3 %s %s at %s: %w", op, where, s.cfg.Endpoint, err)
	case code == "NoSuchKey" || (code == "NotFound" && key != "") || (status == http.StatusNotFound && code == "" && key != ""):
		return fmt.Errorf("s3 %s %s: %w", op, where, ErrNotFound)
	case code == "NoSuchBucket" || (status == http.StatusNotFound && key == ""):
		return fmt.Errorf("s3 %s %s: bucket %q does not exist at %s: %w", op, where, s.cfg.Bucket, s.cfg.Endpoint, ErrConfig)
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		return fmt.Errorf("s3 %s %s: %w", op, where, errPrecondition)
	case code == "ConditionalRequestConflict":
		return fmt.Errorf("s3 %s %s: %w", op, where, errCondConflict)
	case configCodes[code] || status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("s3 %s %s at %s: %w: %w", op, where, s.cfg.Endpoint, ErrConfig, err)
	case permanentCodes[code]:
		return errs.Permanent(fmt.Errorf("s3 %s %s: %w", op, where, err))
	default:
		return fmt.Errorf("s3 %s %s at %s: %w", op, where, s.cfg.Endpoint, err)
	}
}

// codeOf is the S3 error code, "" when the server sent none (HEAD
// responses have no body) or when there was no response at all.
func codeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// statusOf is the HTTP status of the failed response, 0 without one.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

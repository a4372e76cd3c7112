package archive

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/config"
)

// Defaults of S3Config.
const (
	DefaultRegion        = "us-east-1"
	DefaultTimeout       = 20 * time.Second
	DefaultMaxAttempts   = 3
	DefaultListPageSize  = 1000
	DefaultMaxObjectSize = 64 << 20
)

// S3Config configures the S3 store. Endpoint, Bucket, AccessKey and
// SecretKey are required; the rest have defaults.
type S3Config struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:7070.
	// Addressing is always path-style (http://host/bucket/key), which every
	// S3-compatible server understands.
	Endpoint string
	// Region signs the requests; default us-east-1.
	Region string
	// Bucket holds the whole archive.
	Bucket string
	// AccessKey and SecretKey are static credentials.
	AccessKey string
	SecretKey string
	// Timeout bounds one operation, SDK retries included; default 20 s.
	Timeout time.Duration
	// MaxAttempts is how many times the SDK tries one request on a
	// transient failure (connection error, 5xx, throttling); default 3.
	MaxAttempts int
	// ListPageSize is the page size of listings; default 1000.
	ListPageSize int32
	// MaxObjectSize bounds what Get reads into memory; default 64 MiB.
	MaxObjectSize int64
}

// withDefaults fills the zero fields and validates the rest.
func (c S3Config) withDefaults() (S3Config, error) {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.ListPageSize == 0 {
		c.ListPageSize = DefaultListPageSize
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = DefaultMaxObjectSize
	}
	var problems []string
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "":
		problems = append(problems, "endpoint is empty (e.g. http://127.0.0.1:7070)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, fmt.Sprintf("endpoint %q is not an http(s) URL", c.Endpoint))
	case u.Path != "" && u.Path != "/":
		problems = append(problems, fmt.Sprintf("endpoint %q has a path; give the server's base URL", c.Endpoint))
	}
	if err := checkBucketName(c.Bucket); err != nil {
		problems = append(problems, err.Error())
	}
	if c.AccessKey == "" {
		problems = append(problems, "access key is empty")
	}
	if c.SecretKey == "" {
		problems = append(problems, "secret key is empty")
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.ListPageSize < 0 || c.MaxObjectSize < 0 {
		problems = append(problems, "timeout, attempts, page size and object size must not be negative")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("s3 config: %s: %w", strings.Join(problems, "; "), ErrConfig)
	}
	return c, nil
}

// checkBucketName applies the S3 bucket naming rules that matter here.
func checkBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket %q: want 3-63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("bucket %q: only lower-case letters, digits, '-' and '.'", b)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return fmt.Errorf("bucket %q: must start and end with a letter or digit", b)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ConfigFrom is the archive's connection as a function's configuration
// declares it (shared/config.S3; the function reads it, never this
// package).
func ConfigFrom(c config.S3) S3Config {
	return S3Config{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, AccessKey: c.AccessKey, SecretKey: c.SecretKey}
}

package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/config"
)

// Defaults of the archive flags: the functions' own (config.S3), which are
// the local server of scripts/s3-server.sh.
var (
	defaultS3Endpoint  = config.DefaultOf(config.S3{}, "S3_ENDPOINT")
	defaultS3Region    = config.DefaultOf(config.S3{}, "S3_REGION")
	defaultS3Bucket    = config.DefaultOf(config.S3{}, "S3_BUCKET")
	defaultS3AccessKey = config.DefaultOf(config.S3{}, "S3_ACCESS_KEY")
	defaultS3SecretKey = config.DefaultOf(config.S3{}, "S3_SECRET_KEY")
)

// s3Flags are the archive connection flags of the commands that read or
// write the archive. Each flag falls back to an environment variable, then
// to the local server's value, as the functions do.
type s3Flags struct {
	endpoint, region, bucket, accessKey, secretKey string
	timeout                                        time.Duration
}

// addS3Flags registers the archive flags on fs. The flag defaults are
// empty on purpose: the environment is read after parsing, so that -h does
// not print a secret taken from the environment.
func addS3Flags(fs *flag.FlagSet) *s3Flags {
	f := &s3Flags{}
	fs.StringVar(&f.endpoint, "s3-endpoint", "", "S3 endpoint URL (env S3_ENDPOINT, default "+defaultS3Endpoint+")")
	fs.StringVar(&f.region, "s3-region", "", "S3 region (env S3_REGION, default "+defaultS3Region+")")
	fs.StringVar(&f.bucket, "s3-bucket", "", "archive bucket (env S3_BUCKET, default "+defaultS3Bucket+")")
	fs.StringVar(&f.accessKey, "s3-access-key", "", "S3 access key (env S3_ACCESS_KEY, default the local server's)")
	fs.StringVar(&f.secretKey, "s3-secret-key", "", "S3 secret key (env S3_SECRET_KEY, default the local server's; prefer the environment: flags show in ps)")
	fs.DurationVar(&f.timeout, "s3-timeout", archive.DefaultTimeout, "timeout of each S3 operation")
	return f
}

// config resolves flag > environment > default.
func (f *s3Flags) config(env *cliEnv) archive.S3Config {
	pick := func(flagValue, envName, def string) string {
		if flagValue != "" {
			return flagValue
		}
		if v := env.getenv(envName); v != "" {
			return v
		}
		return def
	}
	cfg := archive.S3Config{
		Endpoint:  pick(f.endpoint, "S3_ENDPOINT", defaultS3Endpoint),
		Region:    pick(f.region, "S3_REGION", defaultS3Region),
		Bucket:    pick(f.bucket, "S3_BUCKET", defaultS3Bucket),
		AccessKey: pick(f.accessKey, "S3_ACCESS_KEY", defaultS3AccessKey),
		SecretKey: pick(f.secretKey, "S3_SECRET_KEY", defaultS3SecretKey),
		Timeout:   f.timeout,
	}
	return cfg
}

// open builds the S3 store from the flags. It does no I/O.
func (f *s3Flags) open(env *cliEnv) (*archive.S3, error) {
	s, err := archive.NewS3(f.config(env))
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return s, nil
}

// where names the archive in messages: "bucket dte-archive at http://…".
func where(s *archive.S3) string {
	return "bucket " + s.Bucket() + " at " + s.Endpoint()
}

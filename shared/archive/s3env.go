package archive

import "github.com/dtecl/pipeline/shared/config"

// Local defaults of the S3 settings: those of scripts/s3-server.sh, so that
// the local run needs no configuration.
const (
	LocalEndpoint  = "http://127.0.0.1:7070"
	LocalBucket    = "dte-archive"
	LocalAccessKey = "dtelocal"
	LocalSecretKey = "dtelocal-secret-key"
)

// S3ConfigFromEnv reads S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY
// (or S3_ACCESS_KEY_FILE) and S3_SECRET_KEY (or S3_SECRET_KEY_FILE), with
// the local defaults.
func S3ConfigFromEnv(env *config.Env) S3Config {
	c := S3Config{
		Endpoint: env.String("S3_ENDPOINT", LocalEndpoint),
		Region:   env.String("S3_REGION", DefaultRegion),
		Bucket:   env.String("S3_BUCKET", LocalBucket),
	}
	c.AccessKey, _ = env.Secret("S3_ACCESS_KEY", LocalAccessKey)
	c.SecretKey, _ = env.Secret("S3_SECRET_KEY", LocalSecretKey)
	return c
}

package main

import (
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
)

// Config is sign's configuration, read once from the environment.
type Config struct {
	Port            int              // PORT (8080)
	ReplyMode       string           // REPLY_MODE (publish | reply)
	AMQPURL         string           // AMQP_URL or AMQP_URL_FILE (it carries the broker password): where cl.dte.signed is published in publish mode
	DeclareTopology bool             // DECLARE_TOPOLOGY (true)
	S3              archive.S3Config // S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY(_FILE), S3_SECRET_KEY(_FILE)
	ProbeS3         bool             // S3_PROBE (true): check at start that the S3 server honours conditional writes
	CertFile        string           // CERT_FILE: the signer's certificate, PKCS#12 (.p12/.pfx) or PEM
	CertKeyFile     string           // CERT_KEY_FILE: its PEM private key, when CERT_FILE is PEM
	CertPassword    string           // CERT_PASSWORD or CERT_PASSWORD_FILE: the PKCS#12 password
	SIIKeysDir      string           // SII_CAF_KEYS: extra SII CAF-signing keys (the SII's IDK 100 and 300 are built in)
	CAFCacheTTL     time.Duration    // CAF_CACHE_TTL (1m): how long CAFs read from the archive are reused
	EventTimeout    time.Duration    // EVENT_TIMEOUT (60s): one event's handling
	ShutdownTimeout time.Duration    // SHUTDOWN_TIMEOUT (25s)
	LogLevel        string           // LOG_LEVEL (info)
}

// LoadConfig reads the configuration; the error lists every bad variable.
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		Port:            env.Int("PORT", 8080),
		ReplyMode:       env.String("REPLY_MODE", "publish"),
		DeclareTopology: env.Bool("DECLARE_TOPOLOGY", true),
		S3:              archive.S3ConfigFromEnv(env),
		ProbeS3:         env.Bool("S3_PROBE", true),
		CertFile:        env.Required("CERT_FILE"),
		CertKeyFile:     env.String("CERT_KEY_FILE", ""),
		SIIKeysDir:      env.String("SII_CAF_KEYS", ""),
		CAFCacheTTL:     env.Duration("CAF_CACHE_TTL", time.Minute),
		EventTimeout:    env.Duration("EVENT_TIMEOUT", 60*time.Second),
		ShutdownTimeout: env.Duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		LogLevel:        env.String("LOG_LEVEL", "info"),
	}
	c.CertPassword, _ = env.Secret("CERT_PASSWORD", "")
	c.AMQPURL, _ = env.Secret("AMQP_URL", bus.LocalURL)
	return c, env.Err()
}

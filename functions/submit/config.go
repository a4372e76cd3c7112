package main

import (
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
)

// Config is submit's configuration, read once from the environment.
type Config struct {
	Port            int              // PORT (8080)
	ReplyMode       string           // REPLY_MODE (publish | reply)
	AMQPURL         string           // AMQP_URL or AMQP_URL_FILE (it carries the broker password): next events (publish mode) and delayed status checks (both modes)
	DeclareTopology bool             // DECLARE_TOPOLOGY (true)
	S3              archive.S3Config // S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY(_FILE), S3_SECRET_KEY(_FILE)
	ProbeS3         bool             // S3_PROBE (true): check at start that the S3 server honours conditional writes
	CertFile        string           // CERT_FILE: the sender's certificate, PKCS#12 or PEM
	CertKeyFile     string           // CERT_KEY_FILE: its PEM private key, when CERT_FILE is PEM
	CertPassword    string           // CERT_PASSWORD or CERT_PASSWORD_FILE
	SIIEnv          string           // SII_ENV: maullin (certification), palena (production) or a base URL (the simulator)
	SIITimeout      time.Duration    // SII_TIMEOUT (30s): one SII call
	TokenTTL        time.Duration    // SII_TOKEN_TTL (30m): longest reuse of a token
	CheckDelays     []time.Duration  // CHECK_DELAYS (1s,2s,5s,15s,30s,1m,2m,5m,15m): waits between status checks; the last repeats
	CheckDeadline   time.Duration    // CHECK_DEADLINE (48h): give up waiting for the SII's verdict after this
	NoteWait        time.Duration    // NOTE_WAIT (30s): how often a note re-checks the document it references
	NoteDeadline    time.Duration    // NOTE_DEADLINE (48h): how long a note waits for that document
	LostUploadGrace time.Duration    // LOST_UPLOAD_GRACE (2m): wait before re-uploading after an answer was lost
	EventTimeout    time.Duration    // EVENT_TIMEOUT (90s)
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
		SIIEnv:          env.String("SII_ENV", "maullin"),
		SIITimeout:      env.Duration("SII_TIMEOUT", 30*time.Second),
		TokenTTL:        env.Duration("SII_TOKEN_TTL", 30*time.Minute),
		CheckDelays:     env.Durations("CHECK_DELAYS", []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute}),
		CheckDeadline:   env.Duration("CHECK_DEADLINE", 48*time.Hour),
		NoteWait:        env.Duration("NOTE_WAIT", 30*time.Second),
		NoteDeadline:    env.Duration("NOTE_DEADLINE", 48*time.Hour),
		LostUploadGrace: env.Duration("LOST_UPLOAD_GRACE", 2*time.Minute),
		EventTimeout:    env.Duration("EVENT_TIMEOUT", 90*time.Second),
		ShutdownTimeout: env.Duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		LogLevel:        env.String("LOG_LEVEL", "info"),
	}
	c.CertPassword, _ = env.Secret("CERT_PASSWORD", "")
	c.AMQPURL, _ = env.Secret("AMQP_URL", bus.LocalURL)
	return c, env.Err()
}

package config

import "time"

// Base is what every function reads.
type Base struct {
	Port            int           `env:"PORT" default:"8080" help:"HTTP port (health: /healthz, /_/health, /_/ready)"`
	LogLevel        string        `env:"LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"debug, info, warn or error; JSON logs on stderr, one line per event with its dtekey"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" default:"25s" help:"a shutdown lets in-flight requests finish for this long"`
	LockFile        string        `env:"LOCK_FILE" default:"/tmp/.lock" help:"created once the function serves, removed when it stops (OpenFaaS's exec probe); one per process"`
}

// Dev is the development switch of the functions whose secrets have a
// development value (enqueue, notify).
type Dev struct {
	DevMode bool `env:"DTE_DEV_MODE" default:"false" help:"development only (make run sets it): an unset ENQUEUE_SECRET or CALLBACK_SECRET takes a published local value instead of stopping the function; never in a deployment"`
}

// Broker is the connection of the functions that publish.
type Broker struct {
	AMQPURL         string `env:"AMQP_URL,secret" default:"amqp://guest:guest@127.0.0.1:5672/" help:"the broker (the URL carries its password)"`
	DeclareTopology bool   `env:"DECLARE_TOPOLOGY" default:"true" help:"declare exchanges and queues on connect (false where the platform declares them)"`
}

// Reply is how a stage's events leave the function (delivery).
type Reply struct {
	ReplyMode string `env:"REPLY_MODE" default:"publish" enum:"publish,reply" help:"publish: the function publishes the events it emits (Knative source, OpenFaaS, local); reply: it returns the one emitted at once and publishes the delayed ones (Knative broker)"`
}

// S3 is the archive.
type S3 struct {
	Endpoint  string `env:"S3_ENDPOINT" default:"http://127.0.0.1:7070" help:"the archive (path-style, any S3-compatible server)"`
	Region    string `env:"S3_REGION" default:"us-east-1" help:"the region requests are signed for"`
	Bucket    string `env:"S3_BUCKET" default:"dte-archive" help:"the bucket that holds the whole archive"`
	AccessKey string `env:"S3_ACCESS_KEY,secret" default:"dtelocal" show:"the local server's" help:"static credentials"`
	SecretKey string `env:"S3_SECRET_KEY,secret" default:"dtelocal-secret-key" show:"the local server's" help:"static credentials"`
}

// S3Probe is the start-up check of the functions that write to the
// archive (enqueue only reads it).
type S3Probe struct {
	Probe bool `env:"S3_PROBE" default:"true" help:"probe at start what the server's conditional writes and ETags do (logged); when S3 is unreachable then, probe again before the first write and write nothing until a probe succeeds. false: trust If-Match and If-None-Match without a probe"`
}

// Retry is the two-tier retry of a stage's transient failures
// (docs/design.md, "Retries"; delivery.Retry).
type Retry struct {
	RetryDelays     []time.Duration `env:"RETRY_DELAYS" default:"1s,5s" help:"fast tier: waits before the 2nd, 3rd, … attempt of an event that failed transiently (the default: 3 attempts); Odoo is not told"`
	SlowRetryDelays []time.Duration `env:"SLOW_RETRY_DELAYS" default:"1m,5m,15m,30m,1h" help:"slow tier, after the fast one: waits between attempts (the last repeats; rounded up to the delay queues, at most 1h); Odoo shows retrying with the reason and the next attempt's time"`
	RetryBudget     time.Duration   `env:"RETRY_BUDGET" default:"24h" help:"a transient failure that lasts this long is given up: dead letter, Odoo shows error (status checks: until CHECK_DEADLINE)"`
}

// Cert is the company's signing certificate.
type Cert struct {
	File     string `env:"CERT_FILE,required" help:"the signer's certificate: PKCS#12 (legacy RC2-40 too) or PEM"`
	KeyFile  string `env:"CERT_KEY_FILE" help:"its PEM private key, when CERT_FILE is PEM"`
	Password string `env:"CERT_PASSWORD,secret" help:"the PKCS#12 password"`
}

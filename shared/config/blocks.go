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

// Telemetry is where traces go: OpenTelemetry's standard variables, the
// subset the functions and the dispatcher read. Tracing is off unless an
// OTLP endpoint or OTEL_TRACES_EXPORTER=otlp is set; trace ids are made
// either way, so logs and Odoo's callbacks carry them. Metrics need no
// setting: every function serves them on /metrics, on its PORT.
type Telemetry struct {
	TracesExporter     string `env:"OTEL_TRACES_EXPORTER" enum:"otlp,none" show:"otlp when an OTLP endpoint is set, else none" help:"otlp: export traces over OTLP; none: make trace ids (for logs and Odoo) but export nothing"`
	Endpoint           string `env:"OTEL_EXPORTER_OTLP_ENDPOINT" show:"none (http://localhost:4318 or :4317 when OTEL_TRACES_EXPORTER=otlp)" help:"the OTLP collector's base URL, e.g. http://otel-collector:4318 (http/protobuf) or http://otel-collector:4317 (grpc)"`
	TracesEndpoint     string `env:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" help:"the full URL traces go to, instead of the endpoint's /v1/traces"`
	Protocol           string `env:"OTEL_EXPORTER_OTLP_PROTOCOL" default:"http/protobuf" enum:"http/protobuf,grpc" help:"OTLP over HTTP with protobuf, or gRPC"`
	Headers            string `env:"OTEL_EXPORTER_OTLP_HEADERS,secret" help:"key=value pairs, comma-separated, sent with every export (a collector's API key)"`
	ServiceName        string `env:"OTEL_SERVICE_NAME" show:"the function's name (dispatcher for dte dispatch)" help:"service.name of the spans"`
	Sampler            string `env:"OTEL_TRACES_SAMPLER" default:"parentbased_always_on" enum:"always_on,always_off,traceidratio,parentbased_always_on,parentbased_always_off,parentbased_traceidratio" help:"which traces are recorded; parentbased_*: follow the caller's decision (Odoo's, or enqueue's for the rest of a document)"`
	SamplerArg         string `env:"OTEL_TRACES_SAMPLER_ARG" show:"1" help:"the ratio of the traceidratio samplers, from 0 to 1"`
	ResourceAttributes string `env:"OTEL_RESOURCE_ATTRIBUTES" help:"key=value pairs, comma-separated, added to the spans' resource (e.g. deployment.environment=production)"`
}

package main

import (
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/webhook"
)

// Config is enqueue's configuration, read once from the environment.
type Config struct {
	Port            int           // PORT (8080)
	AMQPURL         string        // AMQP_URL or AMQP_URL_FILE (it carries the broker password)
	Secret          string        // ENQUEUE_SECRET or ENQUEUE_SECRET_FILE: HMAC key shared with Odoo
	DefaultSecret   bool          // true when Secret is the local default
	Window          time.Duration // SIGNATURE_WINDOW (5m): accepted clock skew / replay window
	PublishTimeout  time.Duration // PUBLISH_TIMEOUT (5s): longest wait for the broker's confirm
	MaxBody         int64         // MAX_BODY_BYTES (1 MiB)
	DeclareTopology bool          // DECLARE_TOPOLOGY (true): declare exchanges and queues on connect
	PublishChannels int           // PUBLISH_CHANNELS (16): confirm channels used in parallel
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT (25s)
	LogLevel        string        // LOG_LEVEL (info)
}

// LoadConfig reads the configuration; the error lists every bad variable.
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		Port:            env.Int("PORT", 8080),
		Window:          env.Duration("SIGNATURE_WINDOW", 5*time.Minute),
		PublishTimeout:  env.Duration("PUBLISH_TIMEOUT", 5*time.Second),
		MaxBody:         int64(env.Int("MAX_BODY_BYTES", request.MaxRequestBodySize)),
		DeclareTopology: env.Bool("DECLARE_TOPOLOGY", true),
		PublishChannels: env.Int("PUBLISH_CHANNELS", 16),
		ShutdownTimeout: env.Duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		LogLevel:        env.String("LOG_LEVEL", "info"),
	}
	c.AMQPURL, _ = env.Secret("AMQP_URL", bus.LocalURL)
	var set bool
	c.Secret, set = env.Secret("ENQUEUE_SECRET", webhook.LocalEnqueueSecret)
	c.DefaultSecret = !set
	return c, env.Err()
}

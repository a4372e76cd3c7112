package main

import (
	"time"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/webhook"
)

// Config is notify's configuration, read once from the environment.
type Config struct {
	Port            int           // PORT (8080)
	ReplyMode       string        // REPLY_MODE (publish); notify returns no events, so either works
	CallbackURL     string        // ODOO_CALLBACK_URL: Odoo's /api/dte/callback
	Secret          string        // CALLBACK_SECRET or CALLBACK_SECRET_FILE
	DefaultSecret   bool          // true when Secret is the local default
	CallbackTimeout time.Duration // CALLBACK_TIMEOUT (10s) per POST
	Attempts        int           // CALLBACK_ATTEMPTS (3) POSTs per delivery before answering 503
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT (25s)
	LogLevel        string        // LOG_LEVEL (info)
}

// LoadConfig reads the configuration; the error lists every bad variable.
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		Port:            env.Int("PORT", 8080),
		ReplyMode:       env.String("REPLY_MODE", "publish"),
		CallbackURL:     env.String("ODOO_CALLBACK_URL", "http://127.0.0.1:8069/api/dte/callback"),
		CallbackTimeout: env.Duration("CALLBACK_TIMEOUT", 10*time.Second),
		Attempts:        env.Int("CALLBACK_ATTEMPTS", 3),
		ShutdownTimeout: env.Duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		LogLevel:        env.String("LOG_LEVEL", "info"),
	}
	var set bool
	c.Secret, set = env.Secret("CALLBACK_SECRET", webhook.LocalCallbackSecret)
	c.DefaultSecret = !set
	return c, env.Err()
}

// Command notify tells Odoo about each document's progress: status events
// on /, dead letters on /dead. See README.md, "What happens to a document".
package main

import (
	"context"
	"net/http"

	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/stage/notify"
)

func main() { serve.Main("notify", run) }

func run(ctx context.Context) error {
	cfg, err := LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	logger := serve.NewLogger("notify", cfg.LogLevel)
	if cfg.DefaultSecret {
		logger.Warn("CALLBACK_SECRET is not set: using the local development secret; set it in any real deployment")
	}
	h, err := handler(notify.New(&callback.Client{
		URL: cfg.CallbackURL, Secret: []byte(cfg.Secret), Timeout: cfg.CallbackTimeout, Attempts: cfg.Attempts,
	}, logger), delivery.Config{Mode: cfg.ReplyMode, Logger: logger})
	if err != nil {
		return err
	}
	return serve.Run(ctx, serve.FunctionOptions(cfg.Port, h, nil, cfg.ShutdownTimeout, logger))
}

// handler serves status events on / and dead letters on /dead.
func handler(f *notify.Function, base delivery.Config) (http.Handler, error) {
	base.Stage = "notify"
	base.DeadLetterPermanent = true
	main := base
	main.Types = notify.Types
	status, err := delivery.New(f.Handle, main)
	if err != nil {
		return nil, err
	}
	dead, err := delivery.New(f.HandleDead, base)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", status)
	mux.Handle("/dead", dead)
	return mux, nil
}

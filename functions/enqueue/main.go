// Command enqueue is the door through which Odoo hands an invoice to the
// pipeline: POST / with a signed DTE request; 202 once the broker confirmed
// cl.dte.requested. See README.md, "The DTE request".
package main

import (
	"context"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve"
)

func main() { serve.Main("enqueue", run) }

func run(ctx context.Context) error {
	cfg, err := LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	logger := serve.NewLogger("enqueue", cfg.LogLevel)
	if cfg.DefaultSecret {
		logger.Warn("ENQUEUE_SECRET is not set: using the local development secret; set it in any real deployment")
	}
	validator, err := request.NewValidator()
	if err != nil {
		return err
	}
	pub := bus.NewPublisher(bus.PublisherConfig{
		URL: cfg.AMQPURL, Channels: cfg.PublishChannels, Logger: logger,
		OnConnect: bus.DeclareOnConnect(cfg.DeclareTopology),
	})
	defer pub.Close()
	h := &Handler{
		Validator: validator, Publisher: pub, Secret: []byte(cfg.Secret),
		Window: cfg.Window, PublishTimeout: cfg.PublishTimeout, MaxBody: cfg.MaxBody,
		Now: time.Now, Logger: logger,
	}
	return serve.Run(ctx, serve.FunctionOptions(cfg.Port, h, pub.Ready, cfg.ShutdownTimeout, logger))
}

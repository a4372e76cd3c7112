// Command enqueue is the door through which Odoo hands an invoice to the
// pipeline: POST / with a signed DTE request; 202 once the broker confirmed
// cl.dte.requested. See README.md, "enqueue".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "enqueue:", err)
		os.Exit(1)
	}
}

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
	return serve.Run(ctx, serve.Options{
		Addr:            ":" + strconv.Itoa(cfg.Port),
		Handler:         h,
		Ready:           pub.Ready,
		ShutdownTimeout: cfg.ShutdownTimeout,
		LockFile:        os.TempDir() + "/.lock",
		Logger:          logger,
	})
}

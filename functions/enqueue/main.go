// Command enqueue is the door through which Odoo hands an invoice to the
// pipeline: POST / with a signed DTE request; 202 once the broker confirmed
// cl.dte.requested. The logic is shared/stage/enqueue; this is the wiring.
// See README.md, "The DTE request".
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/stage/enqueue"
	"github.com/dtecl/pipeline/shared/telemetry"
)

func main() { serve.Main("enqueue", func(ctx context.Context) error { return run(ctx, config.OS()) }) }

// What enqueue needs, from the packages that provide it.
var (
	_ enqueue.Publisher = (*bus.Publisher)(nil)
	_ enqueue.Archive   = (*archive.Archive)(nil)
)

func run(ctx context.Context, src config.Source) error {
	var cfg config.Enqueue
	dev, err := config.Load(src, &cfg)
	if err != nil {
		return err
	}
	logger := serve.NewLogger("enqueue", cfg.LogLevel)
	serve.WarnDevValues(logger, dev)
	tel, err := telemetry.Start(ctx, "enqueue", cfg.Telemetry, logger)
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	pub := bus.NewPublisher(bus.PublisherConfig{
		URL: cfg.AMQPURL, Channels: cfg.PublishChannels, Logger: logger,
		OnConnect: bus.DeclareOnConnect(cfg.DeclareTopology), Observer: tel.Publishes(),
	})
	defer pub.Close()
	store, err := archive.NewS3(archive.ConfigFrom(cfg.S3))
	if err != nil {
		return err
	}
	// Reads only (a folio's signed DTE; its state for a 409): no probe of conditional writes.
	arch := archive.New(tel.Store(store), archive.WithLogger(logger))
	// cl.dte.requested carries enqueue's span (the child of Odoo's).
	h, err := newHandler(cfg, telemetry.EventsFromSpan(pub), arch, logger)
	if err != nil {
		return err
	}
	opts := serve.FunctionOptions(cfg.Base, tel.Enqueue(h), serve.ReadyChecks(readyTTL, serve.Check{Name: "broker", Probe: pub.Ready}), logger)
	opts.Metrics = tel.Handler()
	return serve.Run(ctx, opts)
}

// readyTTL is how long an answer of the readiness probes is reused.
const readyTTL = 5 * time.Second

// newHandler is enqueue's handler with its configuration; arch is read to
// refuse at once a different request for a folio already signed, unless
// FOLIO_CHECK=off.
func newHandler(cfg config.Enqueue, pub enqueue.Publisher, arch enqueue.Archive, logger *slog.Logger) (*enqueue.Handler, error) {
	validator, err := request.NewValidator()
	if err != nil {
		return nil, err
	}
	h := &enqueue.Handler{
		Validator: validator, Publisher: pub, Secret: []byte(cfg.Secret),
		Window: cfg.Window, PublishTimeout: cfg.PublishTimeout, MaxBody: cfg.MaxBody,
		Now: time.Now, Logger: logger, Archive: arch, ArchiveTimeout: cfg.ArchiveTimeout,
	}
	if cfg.FolioCheck == "off" {
		h.Archive = nil // sign refuses a reused folio; Odoo is told error
	}
	return h, nil
}

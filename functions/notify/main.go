// Command notify tells Odoo about each document's progress: status events
// on /, dead letters on /dead. The logic is shared/stage/notify; this is
// the wiring. See README.md, "What happens to a document".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/handover"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/stage/notify"
	"github.com/dtecl/pipeline/shared/telemetry"
)

func main() { serve.Main("notify", func(ctx context.Context) error { return run(ctx, config.OS()) }) }

// callback.Client is how notify reaches Odoo.
var _ notify.Sender = (*callback.Client)(nil)

func run(ctx context.Context, src config.Source) error {
	var cfg config.Notify
	dev, err := config.Load(src, &cfg)
	if err != nil {
		return err
	}
	debug.SetGCPercent(cfg.GCPercent) // the same value when GOGC is set
	logger := serve.NewLogger("notify", cfg.LogLevel)
	serve.WarnDevValues(logger, dev)
	tel, err := telemetry.Start(ctx, "notify", cfg.Telemetry, logger)
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	// No readiness check on the archive: with S3 down notify still tells
	// Odoo every status; only accepted documents wait (their delivery is
	// retried).
	maker, err := newHandover(ctx, cfg, tel, logger)
	if err != nil {
		return err
	}
	h, err := newHandler(cfg, maker, tel, logger)
	if err != nil {
		return err
	}
	opts := serve.FunctionOptions(cfg.Base, h, nil, logger)
	opts.Metrics = tel.Handler()
	return serve.Run(ctx, opts)
}

// newHandover wires what accepted documents hand over to the customer:
// the archive, the certificate that signs the receiver's EnvioDTE and the
// SII keys the printed timbre's CAF is checked with.
func newHandover(ctx context.Context, cfg config.Notify, tel *telemetry.Telemetry, logger *slog.Logger) (*handover.Maker, error) {
	cert, err := certs.LoadFile(cfg.Cert.File, cfg.Cert.KeyFile, cfg.Cert.Password)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", cfg.Cert.File, err)
	}
	if err := cert.ValidAt(time.Now()); err != nil {
		logger.Error("the signing certificate cannot sign now; receivers' EnvioDTEs will not be made until it is replaced", "error", err)
	}
	keys, err := caf.SIIKeys(cfg.SIIKeysDir)
	if err != nil {
		return nil, err
	}
	signer, err := dte.NewSigner(cert, dte.WithSIIKeys(keys), dte.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	arch, err := archive.Open(ctx, archive.ConfigFrom(cfg.S3), cfg.Probe.Probe, logger, tel.Store)
	if err != nil {
		return nil, err
	}
	return handover.New(arch, signer, keys), nil
}

// newHandler serves status events on / and dead letters on /dead, posting
// to Odoo once per delivery (the platform's deliveries are the retries).
func newHandler(cfg config.Notify, h notify.Handover, tel *telemetry.Telemetry, logger *slog.Logger) (http.Handler, error) {
	odoo := &http.Client{Transport: tel.CallbackTransport(http.DefaultTransport)}
	f := notify.New(&callback.Client{URL: cfg.CallbackURL, Secret: []byte(cfg.Secret), Timeout: cfg.CallbackTimeout, HTTP: odoo}, h, logger)
	// notify emits nothing: no publisher. A permanent failure is
	// dead-lettered, not turned into cl.dte.failed, which would come back
	// here.
	base := delivery.Config{Stage: "notify", Mode: cfg.ReplyMode, Logger: logger, DeadLetterPermanent: true}
	main := base
	main.Types, main.Observer = notify.Types, tel.Deliveries("notify")
	status, err := delivery.New(f.Handle, main)
	if err != nil {
		return nil, err
	}
	base.Observer = tel.DeadLetters()
	dead, err := delivery.New(f.HandleDead, base)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", status)
	mux.Handle("/dead", dead)
	return mux, nil
}

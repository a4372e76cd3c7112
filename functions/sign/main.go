// Command sign turns cl.dte.requested into a signed, stamped, archived DTE
// and emits cl.dte.signed. The logic is shared/stage/sign; this is the
// wiring. See README.md, "What happens to a document".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/stage"
	"github.com/dtecl/pipeline/shared/stage/sign"
	"github.com/dtecl/pipeline/shared/telemetry"
)

func main() { serve.Main("sign", func(ctx context.Context) error { return run(ctx, config.OS()) }) }

// What the stage and delivery need, from the packages that provide it.
var (
	_ sign.Signer        = (*dte.Signer)(nil)
	_ sign.Archive       = (*archive.Archive)(nil)
	_ sign.Archive       = telemetry.CAFArchive{}
	_ delivery.Publisher = (*bus.Publisher)(nil)
)

func run(ctx context.Context, src config.Source) error {
	var cfg config.Sign
	if _, err := config.Load(src, &cfg); err != nil {
		return err
	}
	logger := serve.NewLogger("sign", cfg.LogLevel)
	tel, err := telemetry.Start(ctx, "sign", cfg.Telemetry, logger)
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	cert, err := certs.LoadFile(cfg.Cert.File, cfg.Cert.KeyFile, cfg.Cert.Password)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", cfg.Cert.File, err)
	}
	if err := cert.ValidAt(time.Now()); err != nil {
		logger.Error("the signing certificate cannot sign now; every document will fail until it is replaced", "error", err)
	}
	keys, err := caf.SIIKeys(cfg.SIIKeysDir)
	if err != nil {
		return err
	}
	signer, err := dte.NewSigner(cert, dte.WithSIIKeys(keys), dte.WithLogger(logger))
	if err != nil {
		return err
	}
	arch, err := archive.Open(ctx, archive.ConfigFrom(cfg.S3), cfg.Probe.Probe, logger, tel.Store)
	if err != nil {
		return err
	}
	validator, err := request.NewValidator()
	if err != nil {
		return err
	}
	pub := bus.NewPublisher(bus.PublisherConfig{URL: cfg.AMQPURL, OnConnect: bus.DeclareOnConnect(cfg.DeclareTopology), Logger: logger, Observer: tel.Publishes()})
	defer pub.Close()
	f := sign.New(validator, signer, tel.CAFs(arch, time.Now), cfg.CAFCacheTTL, time.Now, logger)
	h, err := newHandler(cfg, f.Handle, pub, tel.Deliveries("sign"), logger)
	if err != nil {
		return err
	}
	opts := serve.FunctionOptions(cfg.Base, h, serve.ReadyChecks(readyTTL,
		serve.Check{Name: "broker", Probe: pub.Ready}, serve.Check{Name: "archive", Probe: arch.Ready}), logger)
	opts.Metrics = tel.Handler()
	return serve.Run(ctx, opts)
}

// readyTTL is how long an answer of the readiness probes is reused.
const readyTTL = 5 * time.Second

// newHandler serves the stage on /: cl.dte.requested in, cl.dte.signed
// published (or replied) with confirms; a transient failure comes back to
// dte.sign later (the two retry tiers).
func newHandler(cfg config.Sign, h stage.Handler, pub delivery.Publisher, obs delivery.Observer, logger *slog.Logger) (http.Handler, error) {
	return delivery.New(h, delivery.Config{
		Stage: "sign", Types: sign.Types, Queue: bus.QueueSign, Mode: cfg.ReplyMode,
		Publisher: pub, Timeout: cfg.EventTimeout, Logger: logger, Observer: obs,
		Retry: delivery.Retry{Fast: cfg.RetryDelays, Slow: cfg.SlowRetryDelays, Budget: cfg.RetryBudget, Tier: bus.TierFor},
	})
}

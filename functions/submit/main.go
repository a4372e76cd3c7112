// Command submit uploads signed DTEs to the SII and follows them until the
// SII's verdict: cl.dte.signed → cl.dte.submitted, cl.dte.check →
// cl.dte.settled. The logic is shared/stage/submit; this is the wiring. See
// README.md, "What happens to a document".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
	"github.com/dtecl/pipeline/shared/stage/submit"
	"github.com/dtecl/pipeline/shared/telemetry"
)

func main() { serve.Main("submit", func(ctx context.Context) error { return run(ctx, config.OS()) }) }

// What the stage and delivery need, from the packages that provide it.
var (
	_ submit.SII         = (*sii.Client)(nil)
	_ submit.Archive     = (*archive.Archive)(nil)
	_ submit.Archive     = telemetry.StatesArchive{}
	_ submit.SII         = telemetry.SIIClient(nil)
	_ submit.Enveloper   = envelopes{}
	_ delivery.Publisher = (*bus.Publisher)(nil)
)

func run(ctx context.Context, src config.Source) error {
	var cfg config.Submit
	if _, err := config.Load(src, &cfg); err != nil {
		return err
	}
	logger := serve.NewLogger("submit", cfg.LogLevel)
	tel, err := telemetry.Start(ctx, "submit", cfg.Telemetry, logger)
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	cert, err := certs.LoadFile(cfg.Cert.File, cfg.Cert.KeyFile, cfg.Cert.Password)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", cfg.Cert.File, err)
	}
	cred, err := sii.NewCertificateCredential(cert)
	if err != nil {
		return err
	}
	signer, err := dte.NewSigner(cert, dte.WithLogger(logger))
	if err != nil {
		return err
	}
	client, err := sii.NewClient(siiEnvironment(cfg.SIIEnv), sii.WithLogger(logger), sii.WithTimeout(cfg.SIITimeout), sii.WithTokenTTL(cfg.TokenTTL),
		sii.WithTransport(tel.SIITransport(http.DefaultTransport)), sii.WithTokenCache(tel.TokenCache(sii.NewMemoryTokenCache())))
	if err != nil {
		return err
	}
	arch, err := archive.Open(ctx, archive.ConfigFrom(cfg.S3), cfg.Probe.Probe, logger, tel.Store)
	if err != nil {
		return err
	}
	watched := telemetry.StatesArchive{Archive: arch, Observe: tel.SentAges(time.Now)}
	f, err := submit.New(tel.SII(client), cred, envelopes{signer}, watched, stageConfig(cfg), time.Now)
	if err != nil {
		return err
	}
	pub := bus.NewPublisher(bus.PublisherConfig{URL: cfg.AMQPURL, OnConnect: bus.DeclareOnConnect(cfg.DeclareTopology), Logger: logger, Observer: tel.Publishes()})
	defer pub.Close()
	h, err := newHandler(cfg, f.Handle, pub, tel.Deliveries("submit"), logger)
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

// newHandler serves the stage on /. Its events (cl.dte.submitted, delayed
// status checks, itself again later) are published with confirms; the ones
// it sends back to itself go to dte.submit.
//
// Transient failures are retried in two tiers through dte.submit; a status
// check keeps being retried until CHECK_DEADLINE, and is reported as the
// stage "check".
func newHandler(cfg config.Submit, h stage.Handler, pub delivery.Publisher, obs delivery.Observer, logger *slog.Logger) (http.Handler, error) {
	retry := delivery.Retry{Fast: cfg.RetryDelays, Slow: cfg.SlowRetryDelays, Budget: cfg.RetryBudget, Tier: bus.TierFor}
	if cfg.CheckDeadline > 0 {
		retry.Budgets = map[string]time.Duration{events.TypeCheck: cfg.CheckDeadline}
	}
	return delivery.New(h, delivery.Config{
		Stage: "submit", Types: submit.Types, Queue: bus.QueueSubmit, Mode: cfg.ReplyMode,
		Publisher: pub, Timeout: cfg.EventTimeout, Logger: logger, Observer: obs,
		Stages: map[string]string{events.TypeCheck: "check"}, Retry: retry,
	})
}

// stageConfig is the stage's timing from the configuration.
func stageConfig(cfg config.Submit) submit.Config {
	return submit.Config{
		CheckDelays: cfg.CheckDelays, CheckDeadline: cfg.CheckDeadline,
		NoteWait: cfg.NoteWait, NoteDeadline: cfg.NoteDeadline, NoteRefGrace: cfg.NoteRefGrace,
		LostUploadGrace: cfg.LostUploadGrace, EventTimeout: cfg.EventTimeout,
	}
}

// siiEnvironment maps SII_ENV to a host: the SII's names or a base URL.
func siiEnvironment(s string) sii.Environment {
	switch strings.ToLower(s) {
	case "maullin", "certification", "certificacion":
		return sii.Maullin
	case "palena", "production", "produccion":
		return sii.Palena
	}
	return sii.Environment(s)
}

// envelopes adapts dte.Signer to the stage's Enveloper.
type envelopes struct{ s *dte.Signer }

func (e envelopes) Envelope(ctx context.Context, dteXML []byte, c submit.Caratula, _ time.Time) ([]byte, string, error) {
	env, err := e.s.Envelope(ctx, dte.Header{Issuer: c.Issuer, Resolution: c.Resolution, SetID: c.SetID}, dteXML)
	if err != nil {
		return nil, "", err
	}
	return env.XML, env.SetID, nil
}

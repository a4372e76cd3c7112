// Command submit uploads signed DTEs to the SII and follows them until the
// SII's verdict: cl.dte.signed → cl.dte.submitted, cl.dte.check →
// cl.dte.settled. See README.md, "What happens to a document".
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage/submit"
)

func main() { serve.Main("submit", run) }

func run(ctx context.Context) error {
	cfg, err := LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	logger := serve.NewLogger("submit", cfg.LogLevel)
	cert, err := certs.LoadFile(cfg.CertFile, cfg.CertKeyFile, cfg.CertPassword)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", cfg.CertFile, err)
	}
	cred, err := sii.NewCertificateCredential(cert)
	if err != nil {
		return err
	}
	signer, err := dte.NewSigner(cert, dte.WithLogger(logger))
	if err != nil {
		return err
	}
	client, err := sii.NewClient(siiEnvironment(cfg.SIIEnv), sii.WithLogger(logger), sii.WithTimeout(cfg.SIITimeout), sii.WithTokenTTL(cfg.TokenTTL))
	if err != nil {
		return err
	}
	arch, err := archive.Open(ctx, cfg.S3, cfg.ProbeS3, logger)
	if err != nil {
		return err
	}
	pub := bus.NewPublisher(bus.PublisherConfig{URL: cfg.AMQPURL, OnConnect: bus.DeclareOnConnect(cfg.DeclareTopology), Logger: logger})
	defer pub.Close()
	f := submit.New(client, cred, envelopes{signer}, arch, pub, submit.Config{
		CheckDelays: cfg.CheckDelays, CheckDeadline: cfg.CheckDeadline,
		NoteWait: cfg.NoteWait, NoteDeadline: cfg.NoteDeadline, LostUploadGrace: cfg.LostUploadGrace,
	}, time.Now)
	h, err := delivery.New(f.Handle, delivery.Config{
		Stage: "submit", Types: submit.Types, Mode: cfg.ReplyMode, Publisher: pub, Timeout: cfg.EventTimeout, Logger: logger,
	})
	if err != nil {
		return err
	}
	return serve.Run(ctx, serve.FunctionOptions(cfg.Port, h, nil, cfg.ShutdownTimeout, logger))
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

func (e envelopes) Envelope(dteXML []byte, c submit.Caratula, at time.Time) ([]byte, string, error) {
	env, err := e.s.Envelope(context.Background(), dte.Header{Issuer: c.Issuer, Resolution: c.Resolution}, dteXML)
	if err != nil {
		return nil, "", err
	}
	return env.XML, env.SetID, nil
}

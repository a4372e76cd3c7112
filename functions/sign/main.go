// Command sign turns cl.dte.requested into a signed, stamped, archived DTE
// and emits cl.dte.signed. See README.md, "What happens to a document".
package main

import (
	"context"
	"fmt"
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
	"github.com/dtecl/pipeline/shared/stage/sign"
)

func main() { serve.Main("sign", run) }

func run(ctx context.Context) error {
	cfg, err := LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	logger := serve.NewLogger("sign", cfg.LogLevel)
	cert, err := certs.LoadFile(cfg.CertFile, cfg.CertKeyFile, cfg.CertPassword)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", cfg.CertFile, err)
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
	arch, err := archive.Open(ctx, cfg.S3, cfg.ProbeS3, logger)
	if err != nil {
		return err
	}
	validator, err := request.NewValidator()
	if err != nil {
		return err
	}
	pub := bus.NewPublisher(bus.PublisherConfig{URL: cfg.AMQPURL, OnConnect: bus.DeclareOnConnect(cfg.DeclareTopology), Logger: logger})
	defer pub.Close()
	h, err := delivery.New(sign.New(validator, signer, arch, cfg.CAFCacheTTL, time.Now, logger).Handle, delivery.Config{
		Stage: "sign", Types: sign.Types, Mode: cfg.ReplyMode, Publisher: pub, Timeout: cfg.EventTimeout, Logger: logger,
	})
	if err != nil {
		return err
	}
	return serve.Run(ctx, serve.FunctionOptions(cfg.Port, h, nil, cfg.ShutdownTimeout, logger))
}

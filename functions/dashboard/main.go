// Command dashboard is the live operations dashboard as a service: a
// projection of every event in an embedded SQLite database and a web page
// that follows it (shared/dashboard). `dte dashboard` runs the same.
package main

import (
	"context"
	"fmt"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dashboard"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/telemetry"
)

func main() {
	serve.Main("dashboard", func(ctx context.Context) error { return run(ctx, config.OS()) })
}

func run(ctx context.Context, src config.Source) error {
	var cfg config.Dashboard
	dev, err := config.Load(src, &cfg)
	if err != nil {
		return err
	}
	if cfg.FolioWarning < 0 {
		return fmt.Errorf("configuration: FOLIO_WARNING=%d: want 0 or more", cfg.FolioWarning)
	}
	dashboard.TuneRuntime(cfg.Procs, cfg.GCPercent)
	logger := serve.NewLogger("dashboard", cfg.LogLevel)
	serve.WarnDevValues(logger, dev)
	if cfg.OperatorToken == "" {
		logger.Warn("DASHBOARD_TOKEN is not set: the dashboard is read-only (no replays)")
	}
	// Metrics only (its archive calls, the runtime's): the dashboard makes
	// no spans, so it reads no OTEL_* variable.
	tel, err := telemetry.New(ctx, "dashboard", config.Telemetry{})
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	svc, err := dashboard.Start(ctx, dashboard.ServiceConfig{
		DBPath: cfg.DBPath, AMQPURL: cfg.AMQPURL, Feed: cfg.Feed, Declare: cfg.DeclareTopology, S3: archive.ConfigFrom(cfg.S3),
		OperatorToken: cfg.OperatorToken, ViewToken: cfg.ViewToken,
		Warnings:   dashboard.CAFWarnings{FoliosLeft: cfg.FolioWarning, Expiry: cfg.CAFExpiryWarn},
		StuckAfter: cfg.StuckAfter, Logger: logger, WrapStore: tel.Store,
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	opts := serve.FunctionOptions(cfg.Base, svc.Handler(), svc.Ready, logger)
	opts.Metrics = tel.Handler()
	return serve.Run(ctx, opts)
}

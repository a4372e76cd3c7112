// Command dashboard is the live operations dashboard as a service: a
// projection of every event in an embedded SQLite database and a web page
// that follows it (shared/dashboard). `dte dashboard` runs the same.
package main

import (
	"context"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dashboard"
	"github.com/dtecl/pipeline/shared/serve"
)

func main() { serve.Main("dashboard", run) }

func run(ctx context.Context) error {
	cfg, err := LoadConfig(config.FromOS())
	if err != nil {
		return err
	}
	dashboard.TuneRuntime(cfg.Procs, cfg.GCPercent)
	logger := serve.NewLogger("dashboard", cfg.LogLevel)
	if cfg.OperatorToken == "" {
		logger.Warn("DASHBOARD_TOKEN is not set: the dashboard is read-only (no replays)")
	}
	svc, err := dashboard.Start(ctx, dashboard.ServiceConfig{
		DBPath: cfg.DBPath, AMQPURL: cfg.AMQPURL, Feed: cfg.Feed, Declare: cfg.DeclareTopology, S3: cfg.S3,
		OperatorToken: cfg.OperatorToken, ViewToken: cfg.ViewToken,
		Warnings:   dashboard.CAFWarnings{FoliosLeft: cfg.FolioWarning, Expiry: cfg.CAFExpiryWarn},
		StuckAfter: cfg.StuckAfter, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	return serve.Run(ctx, serve.FunctionOptions(cfg.Port, svc.Handler(), svc.Ready, cfg.ShutdownTimeout, logger))
}

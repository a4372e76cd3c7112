package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/dtecl/pipeline/shared/dashboard"
	"github.com/dtecl/pipeline/shared/serve"
)

// runDashboard is `dte dashboard`: the live operations dashboard
// (shared/dashboard), the same as the dashboard service
// (functions/dashboard) but configured with flags.
func runDashboard(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "dashboard", "[flags]   (tokens from the environment: DASHBOARD_TOKEN, DASHBOARD_VIEW_TOKEN)")
	addr := fs.String("addr", "127.0.0.1:8070", "where the page listens")
	db := fs.String("db", ".run/dashboard.db", "the SQLite projection (created if missing, rebuilt from the archive when empty)")
	amqpURL := fs.String("amqp-url", envOr(env, "AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), "broker URL (env AMQP_URL)")
	feed := fs.String("feed", dashboard.FeedQueue, "where events come from: queue (dte.dashboard) or http (POST /events, Knative Triggers)")
	declare := fs.Bool("declare", true, "declare the RabbitMQ topology when the feed connects")
	folios := fs.Int("folio-warning", 100, "warn when a CAF has fewer folios left")
	expiry := fs.Duration("caf-expiry-warning", 30*24*time.Hour, "warn when a CAF expires sooner")
	stuck := fs.Duration("stuck-after", time.Hour, "flag documents in sent for longer")
	verbose := fs.Bool("v", false, "log every connection and rebuild step (JSON on stderr)")
	s3 := addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q: dashboard takes only flags", fs.Arg(0))}
	}
	if *feed != dashboard.FeedQueue && *feed != dashboard.FeedHTTP {
		return exitError{code: 2, msg: fmt.Sprintf("--feed %q: want queue or http", *feed)}
	}
	if *folios < 0 {
		return exitError{code: 2, msg: fmt.Sprintf("--folio-warning %d: want 0 or more", *folios)}
	}
	// The dashboard's runtime defaults, unless the environment sets them.
	procs, gc := dashboard.DefaultProcs, dashboard.DefaultGCPercent
	if env.getenv("GOMAXPROCS") != "" {
		procs = 0
	}
	if env.getenv("GOGC") != "" {
		gc = 0
	}
	dashboard.TuneRuntime(procs, gc)
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(env.stderr, &slog.HandlerOptions{Level: level})).With("function", "dashboard")
	if dir := filepath.Dir(*db); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	token, viewToken := env.getenv("DASHBOARD_TOKEN"), env.getenv("DASHBOARD_VIEW_TOKEN")
	svc, err := dashboard.Start(ctx, dashboard.ServiceConfig{
		DBPath: *db, AMQPURL: *amqpURL, Feed: *feed, Declare: *declare, S3: s3.config(env),
		OperatorToken: token, ViewToken: viewToken,
		Warnings:   dashboard.CAFWarnings{FoliosLeft: *folios, Expiry: *expiry},
		StuckAfter: *stuck, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	mode := "read-only (set DASHBOARD_TOKEN to allow replays)"
	if token != "" {
		mode = "replays need the operator token (DASHBOARD_TOKEN)"
	}
	fmt.Fprintf(env.stdout, "dashboard: http://%s/ · %s · projection %s · Ctrl-C stops it\n", ln.Addr(), mode, *db)
	return serve.Run(ctx, serve.Options{Listener: ln, Handler: svc.Handler(), Ready: svc.Ready, ShutdownTimeout: 5 * time.Second, Logger: logger})
}

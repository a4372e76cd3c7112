package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/telemetry"
	"github.com/dtecl/pipeline/tools/dispatchconfig"
)

func runDispatch(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "dispatch", "--config FILE")
	file := fs.String("config", "", "YAML file with attempts, backoff and routes (queue → function URL)")
	url := fs.String("amqp-url", envOr(env, "AMQP_URL", defaultAMQPURL), "broker URL (env AMQP_URL)")
	level := fs.String("log-level", envOr(env, "LOG_LEVEL", "info"), "log level")
	metrics := fs.String("metrics-addr", envOr(env, "METRICS_ADDR", ":9090"), "where /metrics and the health paths are served (env METRICS_ADDR)")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q: dispatch takes only flags", fs.Arg(0))}
	}
	if *file == "" {
		fs.Usage()
		return exitError{code: 2}
	}
	cfg, err := dispatchconfig.Load(*file)
	if err != nil {
		return err
	}
	cfg.URL = *url
	cfg.Logger = serve.NewLogger("dispatcher", *level)
	tel, err := startTelemetry(ctx, env, "dispatcher", cfg.Logger)
	if err != nil {
		return err
	}
	defer tel.Close(cfg.Logger)
	cfg.Observer, cfg.PublishObserver = tel.Dispatches(), tel.Publishes()
	d, err := dispatch.New(cfg)
	if err != nil {
		return err
	}
	// The metrics server and the dispatcher stop together: when one ends
	// (ctx done, or a failure), so does the other.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		defer cancel()
		errc <- serve.Run(ctx, serve.Options{Addr: *metrics, Handler: http.NotFoundHandler(), Metrics: tel.Handler(), Logger: cfg.Logger})
	}()
	runErr := d.Run(ctx)
	cancel()
	return errors.Join(runErr, <-errc)
}

// startTelemetry builds a tool's telemetry from the OTEL_* variables
// (config.Telemetry, the same the functions read).
func startTelemetry(ctx context.Context, env *cliEnv, service string, log *slog.Logger) (*telemetry.Telemetry, error) {
	tcfg, err := telemetryConfig(env)
	if err != nil {
		return nil, err
	}
	return telemetry.Start(ctx, service, tcfg, log)
}

// telemetryConfig reads the OTEL_* variables (config.Telemetry).
func telemetryConfig(env *cliEnv) (config.Telemetry, error) {
	var tcfg config.Telemetry
	src := config.Source{Lookup: func(k string) (string, bool) { v := env.getenv(k); return v, v != "" }, ReadFile: os.ReadFile}
	_, err := config.Load(src, &tcfg)
	return tcfg, err
}

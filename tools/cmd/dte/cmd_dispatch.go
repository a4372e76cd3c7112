package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/serve"
)

// dispatchFile is the dispatcher's configuration file (openfaas/connector.yaml).
type dispatchFile struct {
	Attempts int      `json:"attempts"`
	Backoff  []string `json:"backoff"`
	Routes   []struct {
		Queue       string `json:"queue"`
		URL         string `json:"url"`
		Parallelism int    `json:"parallelism"`
	} `json:"routes"`
}

func runDispatch(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "dispatch", "--config FILE")
	file := fs.String("config", "", "YAML file with attempts, backoff and routes (queue → function URL)")
	url := fs.String("amqp-url", envOr(env, "AMQP_URL", defaultAMQPURL), "broker URL (env AMQP_URL)")
	level := fs.String("log-level", envOr(env, "LOG_LEVEL", "info"), "log level")
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
	cfg, err := loadDispatchConfig(*file)
	if err != nil {
		return err
	}
	cfg.URL = *url
	cfg.Logger = serve.NewLogger("dispatcher", *level)
	d, err := dispatch.New(cfg)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

func loadDispatchConfig(path string) (dispatch.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return dispatch.Config{}, err
	}
	var f dispatchFile
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		return dispatch.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg := dispatch.Config{Attempts: f.Attempts}
	for i, b := range f.Backoff {
		d, err := time.ParseDuration(b)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("%s: backoff[%d] %q is not a duration like 1s", path, i, b)
		}
		cfg.Backoff = append(cfg.Backoff, d)
	}
	if len(f.Routes) == 0 {
		return cfg, fmt.Errorf("%s: no routes", path)
	}
	for i, r := range f.Routes {
		if r.Queue == "" || r.URL == "" {
			return cfg, fmt.Errorf("%s: routes[%d] needs queue and url", path, i)
		}
		cfg.Routes = append(cfg.Routes, dispatch.Route{Queue: r.Queue, URL: r.URL, Parallelism: r.Parallelism})
	}
	return cfg, nil
}

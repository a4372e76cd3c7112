// Package dispatchconfig reads the configuration file of `dte dispatch`
// (openfaas/connector.yaml, and the one the local stack writes when it
// runs the dispatcher as a process): attempts, backoff and the routes from
// queues to function URLs. `dte dispatch` and the deployment check read it
// through here, so they cannot disagree on what the file means.
package dispatchconfig

import (
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/dtecl/pipeline/shared/dispatch"
)

// file is the YAML as written; unknown keys are refused.
type file struct {
	Attempts int      `json:"attempts"`
	Backoff  []string `json:"backoff"`
	Routes   []struct {
		Queue       string `json:"queue"`
		URL         string `json:"url"`
		Parallelism int    `json:"parallelism"`
		Order       string `json:"order"`
	} `json:"routes"`
}

// Load reads the file at path. Every route needs a queue and a URL and a
// known order; a parallelism left out is dispatch's default (1), which
// dispatch.New applies.
func Load(path string) (dispatch.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return dispatch.Config{}, err
	}
	var f file
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
		route := dispatch.Route{Queue: r.Queue, URL: r.URL, Parallelism: r.Parallelism, Order: dispatch.Order(r.Order)}
		if err := route.Order.Valid(); err != nil {
			return cfg, fmt.Errorf("%s: routes[%d]: %w", path, i, err)
		}
		cfg.Routes = append(cfg.Routes, route)
	}
	return cfg, nil
}

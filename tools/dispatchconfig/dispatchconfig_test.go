package dispatchconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/dispatch"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	const route = "routes:\n  - queue: dte.notify\n    url: http://gateway.openfaas:8080/function/notify\n    parallelism: 4\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{name: "ok", yaml: "attempts: 3\nbackoff: [1s, 5s]\n" + route + "    order: document\n"},
		{name: "unknown order", yaml: route + "    order: dtekey\n", wantErr: `routes[0]: order "dtekey"`},
		{name: "unknown key", yaml: route + "    prefetch: 8\n", wantErr: "prefetch"},
		{name: "bad backoff", yaml: "backoff: [soon]\n" + route, wantErr: `backoff[0] "soon"`},
		{name: "no routes", yaml: "attempts: 3\n", wantErr: "no routes"},
		{name: "route without url", yaml: "routes:\n  - queue: dte.sign\n", wantErr: "routes[0] needs queue and url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "connector.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := dispatch.Route{Queue: "dte.notify", URL: "http://gateway.openfaas:8080/function/notify", Parallelism: 4, Order: dispatch.OrderDocument}
			if cfg.Attempts != 3 || len(cfg.Backoff) != 2 || cfg.Backoff[1] != 5*time.Second || len(cfg.Routes) != 1 || cfg.Routes[0] != want {
				t.Fatalf("Load = %+v", cfg)
			}
		})
	}
}

// The repository's own connector configuration loads.
func TestLoadTheConnector(t *testing.T) {
	t.Parallel()
	cfg, err := Load("../../openfaas/connector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) == 0 {
		t.Fatal("no routes")
	}
}

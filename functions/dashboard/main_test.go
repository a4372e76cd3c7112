package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/serve/servetest"
)

func TestMain(m *testing.M) { servetest.Main(m, main) }

// TestRefusesABadConfiguration: the process exits 1 naming the variable,
// before it connects to anything.
func TestRefusesABadConfiguration(t *testing.T) {
	servetest.ExpectStartFailure(t, "dashboard", []string{"DASHBOARD_FEED=kafka"}, "configuration:", "DASHBOARD_FEED")
}

func TestConfigurationProblems(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want []string
	}{
		"every problem listed": {map[string]string{"DASHBOARD_FEED": "kafka", "STUCK_AFTER": "1", "GOGC": "lots"},
			[]string{"DASHBOARD_FEED", "STUCK_AFTER", "GOGC"}},
		"negative folio warning": {map[string]string{"FOLIO_WARNING": "-1"}, []string{"FOLIO_WARNING=-1"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.env["PORT"] = "0"
			err := run(t.Context(), config.Map(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: does not name %s", err, w)
				}
			}
		})
	}
}

// TestServesItsMetrics: with the broker and the archive out of reach the
// dashboard still serves (its page says what is down): alive, ready (its
// projection answers), and /metrics shows its failed archive calls (the
// rebuild's and the CAF list's) with the runtime's.
func TestServesItsMetrics(t *testing.T) {
	base := servetest.Serve(t, run, map[string]string{
		"AMQP_URL":     "amqp://guest:guest@" + servetest.ClosedAddr(t) + "/",
		"S3_ENDPOINT":  "http://" + servetest.ClosedAddr(t),
		"DASHBOARD_DB": filepath.Join(t.TempDir(), "dashboard.db"),
	})
	for _, path := range []string{"/_/health", "/_/ready"} {
		if code, body := servetest.Get(t, base+path); code != http.StatusOK {
			t.Errorf("%s: %d %q, want 200", path, code, body)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := servetest.Get(t, base+"/metrics")
		if code == http.StatusOK && strings.Contains(body, `dte_s3_requests_total{operation="list",outcome="error"}`) && strings.Contains(body, "go_goroutines") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics: %d, want the failed archive calls and the runtime's metrics:\n%s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package main

import (
	"strings"
	"testing"

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

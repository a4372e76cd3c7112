package deploycheck

import (
	"strings"
	"testing"
)

// A route's order is checked as `dte dispatch` checks it, and a route that
// keeps each document's order at any parallelism needs 1 on Knative, whose
// sources have no such mode.
func TestConnectorRouteOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, order string
		par         int
		problem     string
		knative     int
	}{
		{name: "none", par: 4, knative: 4},
		{name: "document", order: "document", par: 4, knative: 1},
		{name: "unknown", order: "dtekey", par: 4, problem: `order "dtekey"`, knative: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Connector{Routes: []ConnectorRoute{{Queue: "dte.notify", URL: "http://gateway.openfaas:8080/function/notify", Parallelism: tc.par, Order: tc.order}}}
			_, problems := c.Targets()
			got := strings.Join(problems, "; ")
			if (tc.problem == "") != (got == "") || !strings.Contains(got, tc.problem) {
				t.Errorf("problems %q, want one naming %q", got, tc.problem)
			}
			if p := c.Parallelism()["dte.notify"]; p != tc.knative {
				t.Errorf("Knative parallelism %d, want %d", p, tc.knative)
			}
		})
	}
}

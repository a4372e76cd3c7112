package deploycheck

import (
	"testing"

	"github.com/dtecl/pipeline/shared/dispatch"
)

// A route that keeps each document's order at any parallelism needs 1 on
// Knative, whose sources and triggers have no such mode; other routes keep
// their parallelism there.
func TestConnectorKnativeParallelism(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		order   dispatch.Order
		knative int
	}{
		{name: "none", knative: 4},
		{name: "document", order: dispatch.OrderDocument, knative: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Connector{dispatch.Config{Routes: []dispatch.Route{{Queue: "dte.notify", URL: "http://gateway.openfaas:8080/function/notify", Parallelism: 4, Order: tc.order}}}}
			if _, problems := c.Targets(); len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			if p := c.Parallelism()["dte.notify"]; p != tc.knative {
				t.Errorf("Knative parallelism %d, want %d", p, tc.knative)
			}
		})
	}
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/dispatch"
)

// TestDispatcherStops checks that the dispatcher (the local stand-in for
// the Knative source) lets go of its connection when its context ends, and
// reconnects when the broker closes its connection, with more workers than
// routes, as every local stack runs it (parallelism 4 on sign and submit).
// Both need runOnce to return after its workers end; local.Stack.Stop waits
// for it, and after a broker restart nothing is delivered until it does.
// (It failed before 1162368: every worker sent its end on a channel with
// room for one per route, and the extra ones blocked for ever.) The broker
// side needs no restart: closing the connections of the test's own vhost
// is enough.
func TestDispatcherStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// end ends the dispatcher's connection; it returns what the
		// dispatcher must do next and how to tell it did.
		end func(t *testing.T, vhost string, cancel context.CancelFunc, run <-chan error, posted *atomic.Int32)
	}{
		{"context cancelled: Run returns", func(t *testing.T, _ string, cancel context.CancelFunc, run <-chan error, _ *atomic.Int32) {
			cancel()
			select {
			case <-run:
			case <-time.After(30 * time.Second):
				t.Errorf("Dispatcher.Run did not return 30 s after its context was cancelled: runOnce waits for its workers " +
					"(shared/dispatch/dispatch.go); a worker must never block when it reports that its consumer ended " +
					"(local.Stack.Stop hangs on this)")
			}
		}},
		{"connection closed by the broker: it reconnects", func(t *testing.T, vhost string, _ context.CancelFunc, _ <-chan error, posted *atomic.Int32) {
			name, err := url.PathUnescape(strings.TrimPrefix(mustParse(t, vhost).Path, "/"))
			if err != nil {
				t.Fatal(err)
			}
			// Only this test's vhost: other tests use the broker.
			if out, err := exec.Command("rabbitmqctl", "close_all_connections", "-p", name, "e2e test: connection lost").CombinedOutput(); err != nil {
				t.Fatalf("rabbitmqctl close_all_connections: %v\n%s", err, out)
			}
			publish(t, vhost, bus.ExchangeDirect, bus.QueueSign, amqp.Publishing{ContentType: "text/plain", MessageId: "after-reconnect", Body: []byte("x")})
			deadline := time.Now().Add(30 * time.Second)
			for posted.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(pollEvery)
			}
			if posted.Load() == 0 {
				q, _ := queueInfo(vhost, bus.QueueSign)
				t.Errorf("30 s after the broker closed its connection the dispatcher has not delivered a new message (dte.sign: %d ready, %d consumers): "+
					"runOnce never returned to reconnect (see the other case)", q.Messages, q.Consumers)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vhost := bustest.VHost(t)
			declareTopology(t, vhost)
			var posted atomic.Int32
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posted.Add(1)
				w.WriteHeader(http.StatusOK)
			}))
			t.Cleanup(sink.Close)
			d, err := dispatch.New(dispatch.Config{URL: vhost, Routes: []dispatch.Route{
				{Queue: bus.QueueSign, URL: sink.URL, Parallelism: 4},
				{Queue: bus.QueueSubmit, URL: sink.URL, Parallelism: 4},
			}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // a stuck Run is left behind; the vhost's deletion closes its connection
			run := make(chan error, 1)
			go func() { run <- d.Run(ctx) }()
			waitFor(t, 30*time.Second, "the dispatcher to consume both queues", func() (bool, string) {
				for _, q := range []string{bus.QueueSign, bus.QueueSubmit} {
					info, err := queueInfo(vhost, q)
					if err != nil || info.Consumers == 0 {
						return false, fmt.Sprintf("%s: %+v %v", q, info, err)
					}
				}
				return true, ""
			})
			tt.end(t, vhost, cancel, run, &posted)
		})
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

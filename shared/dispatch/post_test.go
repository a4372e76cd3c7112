package dispatch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/serve/servetest"
)

// A kept-alive connection that the function closed just as the dispatcher
// reused it (its idle timeout, a restart) does not cost a retry a backoff
// later: the POST says it is idempotent, and the HTTP transport sends it
// again at once on a new connection. Both kinds of message are covered: an
// event, and a body that is none (passed on as it is).
func TestPostResendsOnAReusedConnectionTheFunctionClosed(t *testing.T) {
	t.Parallel()
	k, err := dtekey.Parse("76086428-5-33-9")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.New("ev-keepalive", events.TypeSubmitted, events.SourceSubmit, k, map[string]any{"trackid": "1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ev   *events.Event
		m    amqp.Delivery
	}{
		{"event", &ev, amqp.Delivery{MessageId: ev.ID()}},
		{"not an event", nil, amqp.Delivery{MessageId: "poison-keepalive", ContentType: "text/plain", Body: []byte("not an event")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := &servetest.DropSecond{Status: http.StatusOK}
			srv := httptest.NewServer(fn)
			defer srv.Close()
			r := Route{Queue: bus.QueueNotify, URL: srv.URL}
			d, err := New(Config{URL: "amqp://127.0.0.1:1/", Routes: []Route{r}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 2; i++ {
				if res := d.post(context.Background(), r, tt.m, tt.ev, 1); !res.ok() {
					t.Fatalf("POST %d: %s", i, res)
				}
			}
			if n := fn.Requests(); n != 3 {
				t.Errorf("%d requests reached the function, want 3 (the second sent again)", n)
			}
		})
	}
}

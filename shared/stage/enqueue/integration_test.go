package enqueue

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/events"
)

// brokerHandler is enqueue wired to the real broker on a fresh vhost, plus
// a channel to look into the queues.
func brokerHandler(t testing.TB, now time.Time) (*Handler, *amqp.Channel, *bus.Publisher) {
	t.Helper()
	url := bustest.VHost(t)
	pub := bus.NewPublisher(bus.PublisherConfig{URL: url, OnConnect: bus.Declaration().Declare, RetryDialAfter: 100 * time.Millisecond})
	t.Cleanup(func() { pub.Close() })
	if err := pub.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch := bustest.Channel(t, url)
	return newHandler(t, pub, now), ch, pub
}

func queueDepth(t *testing.T, ch *amqp.Channel, q string) int {
	t.Helper()
	info, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("inspect %s: %v", q, err)
	}
	return info.Messages
}

func TestIntegrationQueuesValidRequestOnly(t *testing.T) {
	now := time.Now()
	h, ch, _ := brokerHandler(t, now)
	bad := []call{
		{body: []byte(`{`)},
		{body: edited(t, func(m map[string]any) { sub(m, "totals")["total"] = 1 })},
		{body: edited(t, func(m map[string]any) { sub(m, "issuer")["rut"] = "76086428-1" })},
		{body: sample(t, "factura-33.json"), sign: func([]byte) string { return "t=1,v1=00" }},
		{body: sample(t, "factura-33.json"), contentType: "text/xml"},
	}
	for i, c := range bad {
		if rec := h.do(c, now); rec.Code < 400 {
			t.Fatalf("bad request %d answered %d", i, rec.Code)
		}
	}
	if n := queueDepth(t, ch, bus.QueueSign); n != 0 {
		t.Fatalf("%d refused requests reached dte.sign", n)
	}
	rec := h.do(call{body: sample(t, "factura-33.json")}, now)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("valid request: %d %s", rec.Code, rec.Body)
	}
	var a Accepted
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	d, ok, err := ch.Get(bus.QueueSign, true)
	if err != nil || !ok {
		t.Fatalf("nothing in dte.sign after a 202 (%v)", err)
	}
	if d.ContentType != events.ContentTypeStructured || d.MessageId != a.EventID {
		t.Fatalf("message content type %q id %q", d.ContentType, d.MessageId)
	}
	e, err := events.Unmarshal(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type() != events.TypeRequested || e.ID() != a.EventID || e.Subject() != "76086428-5-33-1042" || e.Extensions()[events.ExtDTEKey] != "76086428-5-33-1042" {
		t.Fatalf("event type %s id %s subject %s ext %v", e.Type(), e.ID(), e.Subject(), e.Extensions())
	}
	if _, ok := e.Extensions()[events.ExtTraceparent]; !ok {
		t.Fatal("no traceparent on the event")
	}
	if n := queueDepth(t, ch, bus.QueueNotify); n != 1 {
		t.Fatalf("dte.notify has %d messages, want the queued notice", n)
	}
}

// TestIntegrationBrokerRestart stops and starts RabbitMQ itself, so it only
// runs when asked (make test runs it on its own, after the other tests).
func TestIntegrationBrokerRestart(t *testing.T) {
	if os.Getenv("DTE_TEST_BROKER_RESTART") != "1" {
		t.Skip("stops the shared RabbitMQ: set DTE_TEST_BROKER_RESTART=1 (make test does, in a serial step)")
	}
	h, ch, _ := brokerHandler(t, time.Now())
	h.Now = time.Now
	h.PublishTimeout = 2 * time.Second
	body := sample(t, "factura-33.json")
	if rec := h.do(call{body: body}, time.Now()); rec.Code != http.StatusAccepted {
		t.Fatalf("before the stop: %d %s", rec.Code, rec.Body)
	}
	_ = ch // its connection dies with the broker
	rabbitmqctl(t, "stop_app")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			rabbitmqctl(t, "start_app")
		}
	})
	for i := 0; i < 5; i++ {
		rec := h.do(call{body: body}, time.Now())
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("with the broker stopped, attempt %d answered %d (Retry-After %q)", i, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	rabbitmqctl(t, "start_app")
	restarted = true
	rabbitmqctl(t, "await_startup")
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec := h.do(call{body: body}, time.Now())
		if rec.Code == http.StatusAccepted {
			break
		}
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("after the restart: %d %s", rec.Code, rec.Body)
		}
		if time.Now().After(deadline) {
			t.Fatal("enqueue did not recover after RabbitMQ came back")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func rabbitmqctl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("rabbitmqctl", args...).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
	}
}

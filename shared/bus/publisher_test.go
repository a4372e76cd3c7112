package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

func testEvent(t *testing.T, typ string) events.Event {
	t.Helper()
	k, err := dtekey.Parse("76086428-5-33-1042")
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.New(events.ID(k, typ, time.Now().String()), typ, events.SourceEnqueue, k, map[string]string{"hello": "ñandú"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(events.ExtTraceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	return e
}

// declared returns a publisher on a fresh vhost with the topology declared
// (twice, to prove the declaration is idempotent) and a channel to inspect it.
func declared(t *testing.T) (*Publisher, *amqp.Channel) {
	t.Helper()
	url := bustest.VHost(t)
	pub := NewPublisher(PublisherConfig{URL: url, OnConnect: Declaration().Declare})
	t.Cleanup(func() { pub.Close() })
	ch := bustest.Channel(t, url)
	if err := Declaration().Declare(ch); err != nil {
		t.Fatalf("first declaration: %v", err)
	}
	if err := Declaration().Declare(ch); err != nil {
		t.Fatalf("second declaration is not idempotent: %v", err)
	}
	return pub, ch
}

func get(t *testing.T, ch *amqp.Channel, queue string) (amqp.Delivery, bool) {
	t.Helper()
	d, ok, err := ch.Get(queue, true)
	if err != nil {
		t.Fatalf("get from %s: %v", queue, err)
	}
	return d, ok
}

func TestPublishEventRoutesAndKeepsStructuredMode(t *testing.T) {
	pub, ch := declared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := testEvent(t, events.TypeRequested)
	if err := pub.PublishEvent(ctx, e); err != nil {
		t.Fatalf("publish: %v", err)
	}
	for _, q := range []string{QueueSign, QueueNotify} {
		d, ok := get(t, ch, q)
		if !ok {
			t.Fatalf("%s received nothing", q)
		}
		if d.ContentType != events.ContentTypeStructured || d.MessageId != e.ID() || d.DeliveryMode != amqp.Persistent {
			t.Fatalf("%s: content type %q, message id %q, delivery mode %d", q, d.ContentType, d.MessageId, d.DeliveryMode)
		}
		if d.Headers[events.ExtTraceparent] != e.Extensions()[events.ExtTraceparent] {
			t.Fatalf("%s: traceparent header %v", q, d.Headers)
		}
		got, err := events.Unmarshal(d.Body)
		if err != nil {
			t.Fatalf("%s: body is not a structured CloudEvent: %v", q, err)
		}
		if got.ID() != e.ID() || got.Type() != e.Type() || got.Subject() != "76086428-5-33-1042" || got.Extensions()[events.ExtDTEKey] != "76086428-5-33-1042" {
			t.Fatalf("%s: event %+v", q, got)
		}
	}
	if _, ok := get(t, ch, QueueSubmit); ok {
		t.Fatal("cl.dte.requested reached dte.submit")
	}
}

func TestPublishUnroutableIsAnError(t *testing.T) {
	pub, _ := declared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := pub.Publish(ctx, ExchangeDirect, "cl.dte.nobody-listens", amqp.Publishing{Body: []byte("x")})
	if !errors.Is(err, ErrUnroutable) {
		t.Fatalf("publish with no binding: %v, want ErrUnroutable", err)
	}
	// The channel stays usable for the next message.
	if err := pub.PublishEvent(ctx, testEvent(t, events.TypeSigned)); err != nil {
		t.Fatalf("publish after an unroutable one: %v", err)
	}
}

func TestPublishWithoutBrokerFailsFast(t *testing.T) {
	pub := NewPublisher(PublisherConfig{URL: "amqp://guest:guest@127.0.0.1:1/"})
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		err := pub.PublishEvent(ctx, testEvent(t, events.TypeRequested))
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("attempt %d: %v, want ErrUnavailable", i, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("publishing to a closed port waited for the whole deadline")
	}
}

func TestPublishDelayedReachesOneQueue(t *testing.T) {
	pub, ch := declared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := testEvent(t, events.TypeRequested)
	msg, err := Message(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishDelayed(ctx, QueueSign, msg, 800*time.Millisecond); err != nil {
		t.Fatalf("publish delayed: %v", err)
	}
	if _, ok := get(t, ch, QueueSign); ok {
		t.Fatal("the delayed message arrived at once")
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if d, ok := get(t, ch, QueueSign); ok {
			if d.MessageId != e.ID() {
				t.Fatalf("got message %q", d.MessageId)
			}
			if _, ok := get(t, ch, QueueNotify); ok {
				t.Fatal("a retry addressed to dte.sign also reached dte.notify")
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the delayed message never came back to dte.sign")
}

func TestTierFor(t *testing.T) {
	tests := map[time.Duration]time.Duration{
		0:                       time.Second,
		time.Second:             time.Second,
		1500 * time.Millisecond: 5 * time.Second,
		20 * time.Minute:        30 * time.Minute,
		time.Hour:               time.Hour,
		3 * time.Hour:           time.Hour, // the longest tier: the slow retry tier's "hourly"
	}
	for in, want := range tests {
		if got := TierFor(in); got != want {
			t.Errorf("TierFor(%s) = %s, want %s", in, got, want)
		}
	}
	if DelayQueue(90*time.Second) != "dte.delay.90s" || DelayQueue(2*time.Minute) != "dte.delay.2m" || DelayQueue(time.Hour) != "dte.delay.1h" {
		t.Errorf("delay queue names: %s %s %s", DelayQueue(90*time.Second), DelayQueue(2*time.Minute), DelayQueue(time.Hour))
	}
}

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
)

// dial connects to a vhost for the test's own look at the broker.
func dial(url string) (*amqp.Connection, *amqp.Channel, error) {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return nil, nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, ch, nil
}

// queueInfo reads a queue's ready messages and consumers.
func queueInfo(url, name string) (amqp.Queue, error) {
	conn, ch, err := dial(url)
	if err != nil {
		return amqp.Queue{}, err
	}
	defer conn.Close()
	q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
	if err != nil {
		return amqp.Queue{}, fmt.Errorf("queue %s: %w", name, err)
	}
	return q, nil
}

// queueDepth is the number of ready messages in a queue; the test fails
// when the broker cannot tell.
func queueDepth(t *testing.T, url, name string) int {
	t.Helper()
	q, err := queueInfo(url, name)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// publish publishes one persistent, mandatory message with a publisher
// confirm; the test fails unless the broker confirmed and routed it.
func publish(t *testing.T, url, exchange, key string, msg amqp.Publishing) {
	t.Helper()
	conn, ch, err := dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg.DeliveryMode = amqp.Persistent
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msg)
	if err != nil {
		t.Fatalf("publish to %s (%s): %v", exchange, key, err)
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil || !ok {
		t.Fatalf("publish to %s (%s): confirmed %v, %v", exchange, key, ok, err)
	}
	select {
	case r := <-returns:
		t.Fatalf("publish to %s (%s): unroutable: %d %s", exchange, key, r.ReplyCode, r.ReplyText)
	default:
	}
}

// declareTopology declares the pipeline's exchanges and queues in a vhost.
func declareTopology(t *testing.T, url string) {
	t.Helper()
	conn, ch, err := dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := bus.Declaration().Declare(ch); err != nil {
		t.Fatal(err)
	}
}

package bus

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/events"
)

// HeaderAttempts counts the deliveries a message has had to its function
// (set by the local dispatcher on retries). Our headers never start with
// "x-": Knative ignores those and RabbitMQ reserves them.
const HeaderAttempts = "dte-attempts"

// Message turns an event into an AMQP message in CloudEvents structured mode:
// the body is the event as JSON, the message id is the event id, the
// trace context travels in the traceparent (and tracestate) headers; a
// PublishObserver may replace it with the publish's own span.
func Message(e events.Event) (amqp.Publishing, error) {
	body, err := events.Marshal(e)
	if err != nil {
		return amqp.Publishing{}, fmt.Errorf("encode event %s: %w", e.ID(), err)
	}
	msg := amqp.Publishing{
		ContentType:  events.ContentTypeStructured,
		MessageId:    e.ID(),
		Timestamp:    e.Time(),
		DeliveryMode: amqp.Persistent,
		Type:         e.Type(),
		Body:         body,
	}
	if tp, ok := e.Extensions()[events.ExtTraceparent].(string); ok && tp != "" {
		msg.Headers = amqp.Table{events.ExtTraceparent: tp}
		if ts, ok := e.Extensions()[events.ExtTracestate].(string); ok && ts != "" {
			msg.Headers[events.ExtTracestate] = ts
		}
	}
	return msg, nil
}

// PublishEvent publishes e to dte.direct with its type as routing key.
func (p *Publisher) PublishEvent(ctx context.Context, e events.Event) error {
	return p.PublishEventTo(ctx, e.Type(), e, 0)
}

// PublishEventTo publishes e so that it reaches dte.direct with routing key
// (an event type, or a queue name to reach that queue only): at once, or
// after about delay (rounded up to a delay tier) when delay is positive.
// It returns once the broker confirmed the message (delivery.Publisher).
func (p *Publisher) PublishEventTo(ctx context.Context, key string, e events.Event, delay time.Duration) error {
	msg, err := Message(e)
	if err != nil {
		return err
	}
	if delay <= 0 {
		return p.Publish(ctx, ExchangeDirect, key, msg)
	}
	return p.PublishDelayed(ctx, key, msg, delay)
}

// PublishDelayed publishes msg so that it reaches dte.direct with routing
// key after about delay (rounded up to a delay tier). key is an event type,
// or a queue name to reach one queue only (retries).
func (p *Publisher) PublishDelayed(ctx context.Context, key string, msg amqp.Publishing, delay time.Duration) error {
	tier := TierFor(delay)
	h := amqp.Table{}
	for k, v := range msg.Headers {
		h[k] = v
	}
	h[HeaderDelay] = tierName(tier)
	msg.Headers = h
	return p.Publish(ctx, ExchangeDelay, key, msg)
}

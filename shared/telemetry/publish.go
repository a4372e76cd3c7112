package telemetry

import (
	"context"
	"errors"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/bus"
)

// Publishes is the bus.PublishObserver of a process: a producer span per
// publish, whose context replaces the message's traceparent header (the
// consumer's span is its child), and the time to the broker's confirm.
func (t *Telemetry) Publishes() bus.PublishObserver { return publishObserver{t} }

type publishObserver struct{ t *Telemetry }

func (p publishObserver) Publishing(ctx context.Context, exchange, key string, msg *amqp.Publishing) func(error) {
	start := time.Now()
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "rabbitmq"),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("messaging.destination.name", exchange),
		attribute.String("messaging.rabbitmq.destination.routing_key", key),
		attribute.String("messaging.message.id", msg.MessageId),
	}
	if d, ok := msg.Headers[bus.HeaderDelay].(string); ok {
		attrs = append(attrs, attribute.String("dte.delay", d))
	}
	ctx, span := p.t.tracer.Start(ctx, "publish "+exchange, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	msg.Headers = InjectAMQP(ctx, msg.Headers)
	return func(err error) {
		outcome := publishOutcome(err)
		p.t.M.PublishDuration.WithLabelValues(exchange, outcome).Observe(time.Since(start).Seconds())
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

// publishOutcome classifies a publish's error (bus's sentinels).
func publishOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, bus.ErrUnroutable):
		return "unroutable"
	case errors.Is(err, bus.ErrNacked):
		return "nacked"
	case errors.Is(err, bus.ErrNoConfirm):
		return "no_confirm"
	case errors.Is(err, bus.ErrUnavailable):
		return "unavailable"
	}
	return "error"
}

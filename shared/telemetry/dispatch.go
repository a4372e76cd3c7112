package telemetry

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage/notify"
)

// Dispatches is the dispatch.Observer of the dispatcher: a consumer span per
// delivery (the child of the publish that carried the message: its AMQP
// traceparent header, else the event's own), which the POST to the
// function, the retry and the dead letter continue; and the deliveries,
// their duration, retries and dead letters by stage and reason class.
func (t *Telemetry) Dispatches() dispatch.Observer { return dispatchObserver{t} }

type dispatchObserver struct{ t *Telemetry }

func (o dispatchObserver) Delivery(r dispatch.Route, m amqp.Delivery, e *events.Event, attempt int) (context.Context, func(dispatch.Outcome)) {
	start := time.Now()
	ctx := FromAMQP(context.Background(), m.Headers)
	typ := ""
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "rabbitmq"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", r.Queue),
		attribute.String("messaging.message.id", m.MessageId),
		attribute.Int("dte.attempt", attempt),
	}
	if e != nil {
		typ = e.Type()
		if !hasParent(ctx) {
			ctx = FromEvent(ctx, *e)
		}
		attrs = append(attrs, attribute.String("cloudevents.event_type", e.Type()))
		if k, ok := e.Extensions()[events.ExtDTEKey].(string); ok {
			attrs = append(attrs, attribute.String("dte.key", k))
		}
	}
	ctx, span := o.t.tracer.Start(ctx, "deliver "+r.Queue, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	active := o.t.M.DeliveriesActive.WithLabelValues(r.Queue)
	active.Inc()
	return ctx, func(out dispatch.Outcome) {
		active.Dec()
		o.t.M.Deliveries.WithLabelValues(r.Queue, actionLabel(out.Action)).Inc()
		o.t.M.DeliveryDuration.WithLabelValues(r.Queue).Observe(time.Since(start).Seconds())
		stage, reason := StageOf(r.Queue, typ), reasonClass(out)
		switch out.Action {
		case dispatch.ActionRetry, dispatch.ActionRetryHeld:
			o.t.M.Retries.WithLabelValues(stage, reason).Inc()
		case dispatch.ActionDeadLettered:
			o.t.M.DeadLetters.WithLabelValues(stage, reason).Inc()
		}
		span.SetAttributes(attribute.String("dte.action", out.Action), attribute.Int("http.response.status_code", out.Status))
		if out.Err != nil {
			span.RecordError(out.Err)
		}
		if out.Action != dispatch.ActionDelivered {
			span.SetStatus(codes.Error, out.Action+": "+reason)
		}
		span.End()
	}
}

// actionLabel is a dispatch action as a label value (snake case).
func actionLabel(a string) string {
	switch a {
	case dispatch.ActionDelivered:
		return "delivered"
	case dispatch.ActionRetry, dispatch.ActionRetryHeld: // held or through the delay queues, a retry
		return "retried"
	case dispatch.ActionDeadLettered:
		return "dead_lettered"
	case dispatch.ActionDropped:
		return "dropped"
	case dispatch.ActionReturned:
		return "returned"
	}
	return "other"
}

// StageOf names the stage a queue's message is for: sign, submit, check (a
// status check on dte.submit) and notify as notify names them to Odoo, dead
// (notify's dead letters), other.
func StageOf(queue, eventType string) string {
	switch queue {
	case bus.QueueSign, bus.QueueSubmit, bus.QueueNotify:
		return notify.StageOf(queue, eventType)
	case bus.QueueDead, bus.QueueDeadParked:
		return "dead"
	}
	return "other"
}

// reasonClass is why a delivery failed, as a small set: the function's HTTP
// status (http_503, …), timeout or network when no answer came.
func reasonClass(out dispatch.Outcome) string {
	switch {
	case out.Status >= 200 && out.Status < 300:
		return "none"
	case out.Status >= 100 && out.Status < 600:
		return "http_" + strconv.Itoa(out.Status)
	case out.Err == nil:
		return "unknown"
	}
	var ne net.Error
	if errors.Is(out.Err, context.DeadlineExceeded) || (errors.As(out.Err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	return "network"
}

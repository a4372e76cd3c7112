package telemetry

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/events"
)

// Deliveries is the delivery.Observer of a function's stage: a span per
// event handled (the child of the delivery that brought it: the HTTP
// traceparent of the dispatcher or platform, else the event's own), and
// the events handled, their duration, the events in flight and the events
// emitted.
func (t *Telemetry) Deliveries(stage string) delivery.Observer {
	return deliveryObserver{t: t, stage: stage}
}

type deliveryObserver struct {
	t     *Telemetry
	stage string
}

func (o deliveryObserver) Begin(r *http.Request, e *events.Event) (context.Context, func(delivery.Outcome)) {
	start := time.Now()
	ctx := r.Context()
	typ := "none"
	attrs := []attribute.KeyValue{attribute.String("dte.stage", o.stage)}
	if e != nil {
		typ = eventType(e.Type())
		// The delivery's own context (the dispatcher's span) comes first;
		// without one (a platform that does not trace), the event's.
		if parent := FromHeaders(ctx, r.Header); hasParent(parent) {
			ctx = parent
		} else {
			ctx = FromEvent(ctx, *e)
		}
		attrs = append(attrs, attribute.String("cloudevents.event_id", e.ID()), attribute.String("cloudevents.event_type", e.Type()))
		if k, ok := e.Extensions()[events.ExtDTEKey].(string); ok {
			attrs = append(attrs, attribute.String("dte.key", k))
		}
	}
	if a := r.Header.Get(delivery.HeaderAttempt); a != "" {
		if n, err := strconv.Atoi(a); err == nil {
			attrs = append(attrs, attribute.Int("dte.attempt", n))
		}
	}
	ctx, span := o.t.tracer.Start(ctx, o.stage+" "+typ, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	inFlight := o.t.M.EventsInFlight.WithLabelValues(o.stage)
	inFlight.Inc()
	return ctx, func(out delivery.Outcome) {
		inFlight.Dec()
		o.t.M.EventsHandled.WithLabelValues(o.stage, typ, out.Result).Inc()
		o.t.M.EventDuration.WithLabelValues(o.stage, typ).Observe(time.Since(start).Seconds())
		for _, em := range out.Emits {
			o.t.M.EventsEmitted.WithLabelValues(o.stage, eventType(em.Event.Type())).Inc()
		}
		span.SetAttributes(attribute.Int("http.response.status_code", out.Status), attribute.String("dte.result", out.Result))
		if out.Err != nil {
			span.RecordError(out.Err)
		}
		if out.Result != "ok" {
			span.SetStatus(codes.Error, out.Result)
		}
		span.End()
	}
}

// eventType is an event type as a label: the pipeline's types, or "other"
// (a label's values must stay a small set whatever arrives).
func eventType(t string) string {
	if slices.Contains(events.Types, t) {
		return t
	}
	return "other"
}

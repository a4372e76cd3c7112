package telemetry

import (
	"context"
	"net/http"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/events"
)

// w3c reads and writes the W3C trace context (traceparent, tracestate). It
// is a value with no state: no global propagator is set or read.
var w3c = propagation.TraceContext{}

// FromHeaders is ctx with the remote span context of HTTP headers h, when
// they carry a valid traceparent.
func FromHeaders(ctx context.Context, h http.Header) context.Context {
	return w3c.Extract(ctx, propagation.HeaderCarrier(h))
}

// InjectHeaders writes ctx's span context into HTTP headers h.
func InjectHeaders(ctx context.Context, h http.Header) {
	w3c.Inject(ctx, propagation.HeaderCarrier(h))
}

// FromEvent is ctx with the span context an event was made in (its
// traceparent and tracestate extensions), when it has a valid one.
func FromEvent(ctx context.Context, e events.Event) context.Context {
	c := propagation.MapCarrier{}
	for _, k := range []string{events.ExtTraceparent, events.ExtTracestate} {
		if v, ok := e.Extensions()[k].(string); ok {
			c[k] = v
		}
	}
	return w3c.Extract(ctx, c)
}

// SetEventContext writes ctx's span context into e's traceparent and
// tracestate extensions. Without a valid span context e is unchanged.
func SetEventContext(ctx context.Context, e *events.Event) {
	c := propagation.MapCarrier{}
	w3c.Inject(ctx, c)
	tp, ok := c[events.ExtTraceparent]
	if !ok {
		return
	}
	e.SetExtension(events.ExtTraceparent, tp)
	if ts := c[events.ExtTracestate]; ts != "" {
		e.SetExtension(events.ExtTracestate, ts)
	}
}

// amqpCarrier adapts AMQP headers to OpenTelemetry's carrier.
type amqpCarrier amqp.Table

func (c amqpCarrier) Get(key string) string {
	v, _ := c[key].(string)
	return v
}

func (c amqpCarrier) Set(key, value string) { c[key] = value }

func (c amqpCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// FromAMQP is ctx with the span context of AMQP headers h.
func FromAMQP(ctx context.Context, h amqp.Table) context.Context {
	if h == nil {
		return ctx
	}
	return w3c.Extract(ctx, amqpCarrier(h))
}

// InjectAMQP returns a copy of h with ctx's span context in it: the caller's
// table may be shared with the message it was copied from.
func InjectAMQP(ctx context.Context, h amqp.Table) amqp.Table {
	out := make(amqp.Table, len(h)+2)
	for k, v := range h {
		out[k] = v
	}
	w3c.Inject(ctx, amqpCarrier(out))
	return out
}

// TraceID is the trace id of ctx's span, as 32 hex digits; "" when there
// is none.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.TraceID().IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// hasParent reports whether ctx carries a span: calls outside a
// document's trace (start-up probes, readiness checks) make no spans of
// their own, only metrics.
func hasParent(ctx context.Context) bool {
	return trace.SpanContextFromContext(ctx).IsValid()
}

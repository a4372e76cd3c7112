package telemetry

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/events"
)

// Enqueue wraps enqueue's handler: a server span per request, the child of
// the caller's traceparent header when it sends one (the Odoo addon does,
// so a document's trace starts at the click), and the requests by status,
// their duration and those in flight.
func (t *Telemetry) Enqueue(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		t.M.EnqueueInFlight.Inc()
		defer t.M.EnqueueInFlight.Dec()
		ctx, span := t.tracer.Start(FromHeaders(r.Context(), r.Header), "enqueue "+r.Method,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r.WithContext(ctx))
		t.M.EnqueueRequests.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		t.M.EnqueueDuration.Observe(time.Since(start).Seconds())
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 400 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

// EventPublisher publishes one event with the broker's confirm (enqueue's
// Publisher).
type EventPublisher interface {
	PublishEvent(ctx context.Context, e events.Event) error
}

// EventsFromSpan makes every event pub publishes carry the span it was made
// in (its traceparent extension: enqueue's span for cl.dte.requested),
// replacing the one the caller set.
func EventsFromSpan(pub EventPublisher) EventPublisher { return spanEvents{pub} }

type spanEvents struct{ next EventPublisher }

func (p spanEvents) PublishEvent(ctx context.Context, e events.Event) error {
	SetEventContext(ctx, &e)
	return p.next.PublishEvent(ctx, e)
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

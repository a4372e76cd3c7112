package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// CallbackTransport is notify's HTTP transport to Odoo: a client span per
// callback whose context goes in the traceparent header (an Odoo that
// traces continues the document's trace), and the callbacks by status code
// (error: no answer) with their time.
func (t *Telemetry) CallbackTransport(base http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		begin := time.Now()
		ctx, span := t.tracer.Start(r.Context(), "callback "+r.Method, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("server.address", r.URL.Host), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		r = r.Clone(ctx)
		InjectHeaders(ctx, r.Header)
		resp, err := base.RoundTrip(r)
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
			span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
			if resp.StatusCode >= 300 {
				span.SetStatus(codes.Error, resp.Status)
			}
		} else {
			span.RecordError(err)
			span.SetStatus(codes.Error, "no answer")
		}
		t.M.CallbackRequests.WithLabelValues(code).Inc()
		t.M.CallbackDuration.Observe(time.Since(begin).Seconds())
		return resp, err
	})
}

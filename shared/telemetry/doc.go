// Package telemetry is how the pipeline shows what it does while it runs:
// Prometheus metrics on /metrics and OpenTelemetry traces, one trace per
// document from Odoo's click to the last callback (README, "Monitoring").
//
// It instruments at the edges, never inside a stage: observers that
// delivery, dispatch and bus call around each event, delivery and publish,
// and decorators around what the stages use (the SII client, the archive's
// store, the callback's HTTP client). Each process builds one Telemetry
// (its own Prometheus registry and tracer provider, no global state) and
// hands it to what it wires.
//
// Trace context travels the W3C way: the traceparent and tracestate
// CloudEvents extensions (the context an event was made in), AMQP headers
// of the same names (the publish that carries it), and HTTP headers (the
// delivery to a function, the callback to Odoo). Every hop starts a child
// span, so a document's trace shows each stage, each publish with its
// confirm, each SII and S3 call and each callback in order, through the
// delay queues of status checks and retries.
package telemetry

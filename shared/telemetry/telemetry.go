package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/config"
)

// PathMetrics is where every function and the dispatcher serve their
// metrics.
const PathMetrics = "/metrics"

// instrumentation names the tracer, as OpenTelemetry asks of libraries.
const instrumentation = "github.com/dtecl/pipeline/shared/telemetry"

// Telemetry is one process's metrics and tracer.
type Telemetry struct {
	// Registry holds this process's metrics (those of what it does, with
	// the Go runtime's and the process's); Handler serves it.
	Registry *prometheus.Registry
	// M are the pipeline's metrics, registered in Registry.
	M *Metrics
	// Exporting tells whether spans leave the process (an OTLP exporter
	// is configured). Without it spans are still made, so trace ids reach
	// logs and Odoo, and then dropped.
	Exporting bool

	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// Option adjusts New.
type Option func(*options)

type options struct {
	processors []sdktrace.SpanProcessor
}

// WithSpanProcessor adds a span processor (tests: an in-memory recorder).
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return func(o *options) { o.processors = append(o.processors, p) }
}

// New builds the telemetry of the process named service (enqueue, sign,
// submit, notify, dispatcher) from its configuration. Shutdown flushes
// and stops it.
func New(ctx context.Context, service string, cfg config.Telemetry, opts ...Option) (*Telemetry, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, service)
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics: %w", err)
	}
	smp, err := sampler(cfg)
	if err != nil {
		return nil, err
	}
	// Checked even when nothing is exported: a bad value shows at start.
	if _, err := keyValues("OTEL_EXPORTER_OTLP_HEADERS", cfg.Headers); err != nil {
		return nil, err
	}
	if _, err := exportURL(cfg); err != nil {
		return nil, err
	}
	res, err := newResource(service, cfg)
	if err != nil {
		return nil, err
	}
	popts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(smp), sdktrace.WithResource(res)}
	t := &Telemetry{Registry: reg, M: m, Exporting: exporting(cfg)}
	if t.Exporting {
		exp, err := newExporter(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
		popts = append(popts, sdktrace.WithBatcher(exp))
	}
	for _, p := range o.processors {
		popts = append(popts, sdktrace.WithSpanProcessor(p))
	}
	t.provider = sdktrace.NewTracerProvider(popts...)
	t.tracer = t.provider.Tracer(instrumentation)
	return t, nil
}

// Tracer is the process's tracer.
func (t *Telemetry) Tracer() trace.Tracer { return t.tracer }

// Handler serves the metrics in Prometheus's text format.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Timeout: 10 * time.Second})
}

// Shutdown exports the spans still buffered (within ctx) and stops the
// tracer provider.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil || t.provider == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("telemetry: flush spans: %w", err)
	}
	return nil
}

// Start is New for a function or the dispatcher, saying in the log where
// its traces go.
func Start(ctx context.Context, service string, cfg config.Telemetry, log *slog.Logger) (*Telemetry, error) {
	t, err := New(ctx, service, cfg)
	if err != nil {
		return nil, err
	}
	if t.Exporting {
		target, _ := exportURL(cfg)
		if target == "" {
			target = "the exporter's default (localhost)"
		}
		log.Info("telemetry: traces exported over OTLP", "protocol", cfg.Protocol, "endpoint", target, "metrics", PathMetrics)
	} else {
		log.Info("telemetry: traces not exported (set OTEL_EXPORTER_OTLP_ENDPOINT to export them); trace ids still go to logs and callbacks", "metrics", PathMetrics)
	}
	return t, nil
}

// Close flushes the spans still buffered, for at most 5 s, and stops.
func (t *Telemetry) Close(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("telemetry: spans lost at shutdown", "error", err)
	}
}

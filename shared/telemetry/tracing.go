package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/dtecl/pipeline/shared/config"
)

// exporting tells whether cfg asks for traces to be exported: an explicit
// OTEL_TRACES_EXPORTER, else the presence of an OTLP endpoint.
func exporting(cfg config.Telemetry) bool {
	switch cfg.TracesExporter {
	case "otlp":
		return true
	case "none":
		return false
	}
	return cfg.Endpoint != "" || cfg.TracesEndpoint != ""
}

// newExporter builds the OTLP exporter cfg describes. The exporter also
// reads the OTEL_EXPORTER_OTLP_* variables this package does not declare
// (timeout, TLS certificate, compression) by itself.
func newExporter(ctx context.Context, cfg config.Telemetry) (sdktrace.SpanExporter, error) {
	headers, err := keyValues("OTEL_EXPORTER_OTLP_HEADERS", cfg.Headers)
	if err != nil {
		return nil, err
	}
	target, err := exportURL(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Protocol == "grpc" {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithHeaders(headers)}
		if target != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(target))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithHeaders(headers)}
	if target != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(target))
	}
	return otlptracehttp.New(ctx, opts...)
}

// exportURL is the URL spans go to: the traces endpoint as given, or the
// base endpoint with /v1/traces (HTTP) or as it is (gRPC); "" leaves the
// exporter's default (localhost).
func exportURL(cfg config.Telemetry) (string, error) {
	raw, name, suffix := cfg.TracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""
	if raw == "" {
		raw, name = cfg.Endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT"
		if cfg.Protocol != "grpc" {
			suffix = "/v1/traces"
		}
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("telemetry: %s=%q is not an http(s) URL", name, raw)
	}
	if suffix != "" {
		raw = strings.TrimRight(raw, "/") + suffix
	}
	return raw, nil
}

// sampler is OTEL_TRACES_SAMPLER with its argument.
func sampler(cfg config.Telemetry) (sdktrace.Sampler, error) {
	ratio := 1.0
	if cfg.SamplerArg != "" {
		r, err := strconv.ParseFloat(cfg.SamplerArg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("telemetry: OTEL_TRACES_SAMPLER_ARG=%q is not a ratio from 0 to 1", cfg.SamplerArg)
		}
		ratio = r
	}
	switch cfg.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	}
	return nil, fmt.Errorf("telemetry: OTEL_TRACES_SAMPLER=%q is not a known sampler", cfg.Sampler)
}

// newResource names the process in its spans.
func newResource(service string, cfg config.Telemetry) (*resource.Resource, error) {
	if cfg.ServiceName != "" {
		service = cfg.ServiceName
	}
	extra, err := keyValues("OTEL_RESOURCE_ATTRIBUTES", cfg.ResourceAttributes)
	if err != nil {
		return nil, err
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(service), semconv.ServiceNamespace("dte-pipeline")}
	for k, v := range extra {
		if k == string(semconv.ServiceNameKey) {
			continue // OTEL_SERVICE_NAME or the function's name wins
		}
		attrs = append(attrs, attribute.String(k, v))
	}
	return resource.NewSchemaless(attrs...), nil
}

// keyValues reads "k1=v1,k2=v2" (values may be URL-encoded, as the
// OpenTelemetry specification allows).
func keyValues(name, raw string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(raw) == "" {
		return out, nil
	}
	for i, pair := range strings.Split(raw, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			// Not quoted: the headers may carry a secret.
			return nil, fmt.Errorf("telemetry: %s: entry %d is not key=value", name, i+1)
		}
		if dv, err := url.PathUnescape(strings.TrimSpace(v)); err == nil {
			v = dv
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

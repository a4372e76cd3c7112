package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/config"
)

// TestOTLPExportFollowsTheVariables: with an endpoint set, spans are
// exported over OTLP/HTTP to ENDPOINT/v1/traces with the configured
// headers; without one nothing is exported.
func TestOTLPExportFollowsTheVariables(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	var cfg config.Telemetry
	if _, err := config.Load(config.Map(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
		"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20k3y,x-tenant=dte",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment=test",
	}), &cfg); err != nil {
		t.Fatal(err)
	}
	tel, err := New(context.Background(), "sign", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !tel.Exporting {
		t.Fatal("an endpoint is set but tracing is not exporting")
	}
	_, span := tel.Tracer().Start(context.Background(), "sign cl.dte.requested")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("the collector got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.URL.Path != "/v1/traces" || r.Header.Get("Authorization") != "Bearer k3y" || r.Header.Get("X-Tenant") != "dte" {
		t.Errorf("export went to %s with headers %v", r.URL.Path, r.Header)
	}
	for _, want := range []string{"sign cl.dte.requested", "service.name", "sign", "deployment.environment"} {
		if !strings.Contains(string(bodies[0]), want) {
			t.Errorf("the exported protobuf lacks %q", want)
		}
	}

	off, err := New(context.Background(), "sign", config.Telemetry{})
	if err != nil || off.Exporting {
		t.Fatalf("no endpoint: exporting %v, err %v", off != nil && off.Exporting, err)
	}
	_, span = off.Tracer().Start(context.Background(), "x")
	if !span.SpanContext().IsValid() {
		t.Error("without an exporter spans must still have ids (logs and Odoo carry them)")
	}
	span.End()
}

func TestTelemetryConfiguration(t *testing.T) {
	tests := []struct {
		env       map[string]string
		exporting bool
		url       string
		err       string
	}{
		{nil, false, "", ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, "", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, true, "http://c:4318/v1/traces", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false, "http://c:4318/v1/traces", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, "http://c:4317", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://c/traces", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, true, "https://c/traces", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "c:4318"}, true, "", "OTEL_EXPORTER_OTLP_ENDPOINT=\"c:4318\" is not an http(s) URL"},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, false, "", "OTEL_TRACES_SAMPLER_ARG=\"2\" is not a ratio"},
		{map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "secret-without-equals"}, false, "", "OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not key=value"},
		{map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a=1,=2"}, false, "", "OTEL_RESOURCE_ATTRIBUTES: entry 2 is not key=value"},
	}
	for _, tt := range tests {
		var cfg config.Telemetry
		if _, err := config.Load(config.Map(tt.env), &cfg); err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if got := exporting(cfg); got != tt.exporting {
			t.Errorf("%v: exporting %v, want %v", tt.env, got, tt.exporting)
		}
		u, uerr := exportURL(cfg)
		if tt.err == "" && (uerr != nil || u != tt.url) {
			t.Errorf("%v: export URL %q (%v), want %q", tt.env, u, uerr, tt.url)
		}
		_, err := New(context.Background(), "sign", cfg)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%v: %v", tt.env, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%v: err %v, want one saying %q", tt.env, err, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "secret-without-equals") {
			t.Errorf("the error shows the headers' value: %v", err)
		}
	}
	var cfg config.Telemetry
	if _, err := config.Load(config.Map(map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}), &cfg); err == nil {
		t.Error("an unknown sampler was accepted")
	}
}

// TestEachProcessShowsItsOwnMetrics: a process registers the metrics of
// what it does, so /metrics of enqueue shows no SII histogram.
func TestEachProcessShowsItsOwnMetrics(t *testing.T) {
	has := func(service, name string) bool {
		tel, err := New(context.Background(), service, config.Telemetry{})
		if err != nil {
			t.Fatal(err)
		}
		// A vector shows only the series it has: give two of them one.
		tel.M.S3Duration.WithLabelValues("get").Observe(0.01)
		tel.M.EventsHandled.WithLabelValues("sign", "cl.dte.requested", "ok").Inc()
		families, err := tel.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == name {
				return true
			}
		}
		return false
	}
	for _, tt := range []struct {
		service, name string
		want          bool
	}{
		{"submit", "dte_sent_document_age_seconds", true},
		{"enqueue", "dte_sent_document_age_seconds", false},
		{"enqueue", "dte_enqueue_request_duration_seconds", true},
		{"notify", "dte_callback_duration_seconds", true},
		{"dispatcher", "dte_callback_duration_seconds", false},
		{"sign", "process_resident_memory_bytes", true},
		{"enqueue", "dte_s3_request_duration_seconds", true}, // it reads a document's state
		{"dashboard", "dte_s3_request_duration_seconds", true},
		{"dashboard", "dte_events_handled_total", false},
		{"dashboard", "go_goroutines", true},
	} {
		if got := has(tt.service, tt.name); got != tt.want {
			t.Errorf("%s shows %s: %v, want %v", tt.service, tt.name, got, tt.want)
		}
	}
}

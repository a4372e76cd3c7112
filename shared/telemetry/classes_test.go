package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/sii"
)

// Label values come from small fixed sets, whatever the error's text.
func TestReasonClasses(t *testing.T) {
	k, _ := dtekey.Parse("76086428-5-33-1042")
	dead := func(ext map[string]any, typ string) events.Event {
		e, err := events.New("id", typ, "/t", k, map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		for n, v := range ext {
			e.SetExtension(n, v)
		}
		return e
	}
	for _, tt := range []struct {
		e            events.Event
		stage, class string
	}{
		{dead(map[string]any{events.ExtDeadQueue: "dte.sign", events.ExtDeadReason: "HTTP 503: transient failure: sii upload: network"}, events.TypeRequested), "sign", "http_503"},
		{dead(map[string]any{events.ExtDeadQueue: "dte.submit", events.ExtDeadReason: "dead-lettered by the broker: delivery_limit"}, events.TypeCheck), "check", "broker_delivery_limit"},
		{dead(map[string]any{events.ExtDeadQueue: "dte.submit", events.ExtDeadReason: "dead-lettered by the broker: something new"}, events.TypeSigned), "submit", "broker_other"},
		{dead(map[string]any{events.ExtDeadReason: `Post "http://sign/": dial tcp: connection refused`}, events.TypeRequested), "sign", "network"},
		{dead(map[string]any{events.ExtDeadReason: "context deadline exceeded"}, events.TypeCheck), "check", "timeout"},
		{dead(map[string]any{events.ExtKnativeErrorCode: "502"}, events.TypeSigned), "submit", "http_502"},
		{dead(map[string]any{events.ExtDeadReason: "folio 7 of dtekey 76086428-5-33-7 is odd"}, events.TypeSettled), "notify", "other"},
		{dead(nil, events.TypeSubmitted), "notify", "unknown"},
		{dead(map[string]any{events.ExtDeadQueue: "dte.submit", events.ExtDeadReason: "HTTP 422: retry budget exhausted: 9 attempts since 2026-03-02T10:00:00Z, gave up at 2026-03-03T10:00:00Z: sii upload: network"}, events.TypeSigned), "submit", "retry_exhausted"},
		{dead(map[string]any{events.ExtKnativeErrorCode: "422", events.ExtKnativeErrorData: "retry budget exhausted: 4 attempts since …: s3: timeout"}, events.TypeRequested), "sign", "retry_exhausted"},
	} {
		if s, c := deadStage(tt.e), deadReason(tt.e); s != tt.stage || c != tt.class {
			t.Errorf("%v: %s %s, want %s %s", tt.e.Extensions(), s, c, tt.stage, tt.class)
		}
	}

	timeout := &net.OpError{Op: "dial", Err: timeoutErr{}}
	for _, tt := range []struct {
		out  dispatch.Outcome
		want string
	}{
		{dispatch.Outcome{Status: 503}, "http_503"},
		{dispatch.Outcome{Status: 200}, "none"},
		{dispatch.Outcome{Err: context.DeadlineExceeded}, "timeout"},
		{dispatch.Outcome{Err: timeout}, "timeout"},
		{dispatch.Outcome{Err: errors.New("connection refused")}, "network"},
		{dispatch.Outcome{Status: 999}, "unknown"},
	} {
		if got := reasonClass(tt.out); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.out, got, tt.want)
		}
	}

	for _, tt := range []struct {
		op   string
		err  error
		want string
	}{
		{sii.OpUpload, &sii.Error{Op: sii.OpUpload, Code: sii.CodeNetwork, Transient: true}, "network"},
		{sii.OpUpload, &sii.Error{Op: sii.OpGetToken, Code: "-07"}, "auth_sii_permanent"},
		{sii.OpUpload, &sii.Error{Op: sii.OpGetSeed, Code: sii.CodeLoginPage, Transient: true}, "auth_login_page"},
		{sii.OpGetEstUp, errs.Permanent(&sii.Error{Op: sii.OpGetEstUp, Code: "-3"}), "sii_permanent"},
		{sii.OpGetEstUp, &sii.Error{Op: sii.OpGetEstUp, Code: "-11", Transient: true}, "sii_transient"},
		{sii.OpUpload, &sii.Error{Op: sii.OpUpload, Code: "5", TokenRejected: true}, "token_rejected"},
		{sii.OpUpload, fmt.Errorf("read envelope: %w", errors.New("x")), "error"},
	} {
		if got := siiErrorClass(tt.op, tt.err); got != tt.want {
			t.Errorf("%s %v: %s, want %s", tt.op, tt.err, got, tt.want)
		}
	}

	for err, want := range map[error]string{
		nil: "ok", fmt.Errorf("get x: %w", archive.ErrNotFound): "not_found", archive.ErrExists: "exists",
		archive.ErrConflict: "conflict", errors.New("503 SlowDown"): "error",
	} {
		if got := storeOutcome(err); got != want {
			t.Errorf("store %v: %s, want %s", err, got, want)
		}
	}
	for err, want := range map[error]string{
		nil: "ok", fmt.Errorf("x: %w", bus.ErrUnroutable): "unroutable", bus.ErrNacked: "nacked",
		bus.ErrNoConfirm: "no_confirm", bus.ErrUnavailable: "unavailable", errors.New("?"): "error",
	} {
		if got := publishOutcome(err); got != want {
			t.Errorf("publish %v: %s, want %s", err, got, want)
		}
	}
	if eventType("cl.dte.signed") != "cl.dte.signed" || eventType("com.example.anything") != "other" {
		t.Error("event types outside the pipeline's must be one label value")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestLogLinesCarryTheTrace: a record logged with a traced context has
// trace_id and span_id; one without has neither.
func TestLogLinesCarryTheTrace(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("function", "sign")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.InfoContext(ctx, "event", "dtekey", "76086428-5-33-1")
	log.Info("start")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var first, second map[string]any
	if len(lines) != 2 || json.Unmarshal(lines[0], &first) != nil || json.Unmarshal(lines[1], &second) != nil {
		t.Fatalf("log: %s", buf.String())
	}
	if first["trace_id"] != tid.String() || first["span_id"] != sid.String() || first["function"] != "sign" {
		t.Errorf("traced line: %v", first)
	}
	if _, ok := second["trace_id"]; ok {
		t.Errorf("untraced line has a trace id: %v", second)
	}
}

// TestInjectAMQPCopies: the trace headers go into a copy; the message the
// headers came from is not changed.
func TestInjectAMQPCopies(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	orig := amqp.Table{"traceparent": "00-11111111111111111111111111111111-2222222222222222-01", "dte-attempts": int32(2)}
	got := InjectAMQP(ctx, orig)
	if got["traceparent"] != "00-"+tid.String()+"-"+sid.String()+"-01" || got["dte-attempts"] != int32(2) {
		t.Errorf("injected: %v", got)
	}
	if orig["traceparent"] != "00-11111111111111111111111111111111-2222222222222222-01" {
		t.Errorf("the original headers changed: %v", orig)
	}
	back := trace.SpanContextFromContext(FromAMQP(context.Background(), got))
	if back.TraceID() != tid || back.SpanID() != sid || !back.IsRemote() {
		t.Errorf("read back %v", back)
	}
}

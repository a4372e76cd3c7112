package tracechain

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/localpki"
	"github.com/dtecl/pipeline/tools/siisim"
)

// The Odoo click: the addon's traceparent (its span is not exported; the
// enqueue span must be its child).
const (
	clickTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	clickSpan  = "00f067aa0ba902b7"
)

// TestOneTracePerDocument sends one factura through the whole pipeline and
// reads its spans: one trace, from enqueue (the child of Odoo's click) to
// the last callback; every span's parent is another span of the trace;
// each hop (publish, delivery, handling) is a span of its own; and the
// chain holds across the delayed status checks, both retry tiers of the
// stage's delivery (the SII's first two status answers are 500s: a fast
// retry, then the slow tier, which tells Odoo retrying) and a retry by
// the dispatcher (Odoo answers the first callback 503).
func TestOneTracePerDocument(t *testing.T) {
	body, issuer, folio, moveID := sample(t)
	p := startPipeline(t, localpki.CAFSpec{Issuer: issuer, Name: "EMPRESA DE PRUEBA TRAZAS", Type: 33, From: 1, To: 5000})
	key, err := dtekey.New(issuer.String(), 33, folio)
	if err != nil {
		t.Fatal(err)
	}
	p.odoo.AddMove(moveID, key.String())
	if err := p.sii.SetFaults(siisim.Faults{Fail5xx: 2, Ops: []string{"getEstUp"}}); err != nil {
		t.Fatal(err)
	}
	p.odoo.FailNext(http.StatusServiceUnavailable)
	p.send(t, body, "00-"+clickTrace+"-"+clickSpan+"-01")

	// Wait for the verdict's callback, then for the spans around it to end.
	deadline := time.Now().Add(90 * time.Second)
	for {
		m, _ := p.odoo.Move(moveID)
		if m.Status == "accepted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the document did not settle: status %q; callbacks %+v", m.Status, p.odoo.Received())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var spans []sdktrace.ReadOnlySpan
	for {
		spans = p.spans.Ended()
		if settledDelivered(spans) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() != clickTrace {
			t.Errorf("span %q is in trace %s, not the document's %s", s.Name(), s.SpanContext().TraceID(), clickTrace)
		}
		if _, dup := byID[s.SpanContext().SpanID()]; dup {
			t.Errorf("span id %s used twice: a hop reused its parent's span", s.SpanContext().SpanID())
		}
		byID[s.SpanContext().SpanID()] = s
	}
	roots := 0
	for _, s := range spans {
		parent := s.Parent().SpanID().String()
		if parent == clickSpan {
			roots++
			if s.Name() != "enqueue POST" {
				t.Errorf("%q is a child of Odoo's click; only enqueue's span should be", s.Name())
			}
			continue
		}
		if _, ok := byID[s.Parent().SpanID()]; !ok {
			t.Errorf("span %q has parent %s, which is no span of the trace", s.Name(), parent)
		}
	}
	if roots != 1 {
		t.Errorf("%d spans are children of Odoo's click, want 1 (enqueue)", roots)
	}

	// Every kind of hop is there.
	count := map[string]int{}
	for _, s := range spans {
		count[s.Name()]++
	}
	for name, least := range map[string]int{
		"enqueue POST": 1, "publish dte.direct": 5, "publish dte.delay": 5,
		"deliver dte.sign": 1, "sign cl.dte.requested": 1,
		"deliver dte.submit": 5, "submit cl.dte.signed": 1, "submit cl.dte.check": 4,
		"deliver dte.notify": 6, "notify cl.dte.requested": 1, "notify cl.dte.signed": 1,
		"notify cl.dte.submitted": 1, "notify cl.dte.retrying": 1, "notify cl.dte.settled": 1, "callback POST": 6,
		"sii upload": 1, "sii getEstUp": 3, "sii HTTP getSeed": 1, "sii HTTP getToken": 1, "sii HTTP upload": 1,
		"s3 get": 1, "s3 put": 3, "s3 list": 1,
	} {
		if count[name] < least {
			t.Errorf("%d spans %q, want at least %d", count[name], name, least)
		}
	}
	if t.Failed() {
		t.Logf("spans: %v", count)
	}

	// The last callback's ancestry is the document's path, hop by hop.
	var last sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "notify cl.dte.settled" {
			for _, c := range spans {
				if c.Name() == "callback POST" && c.Parent().SpanID() == s.SpanContext().SpanID() {
					last = c
				}
			}
		}
	}
	if last == nil {
		t.Fatal("no callback span under notify's handling of cl.dte.settled")
	}
	var path []string
	for s := last; s != nil; s = byID[s.Parent().SpanID()] {
		path = append(path, s.Name())
	}
	slices.Reverse(path)
	want := []string{
		"enqueue POST", "publish dte.direct", "deliver dte.sign", "sign cl.dte.requested",
		"publish dte.direct", "deliver dte.submit", "submit cl.dte.signed",
		"publish dte.delay", "deliver dte.submit", "submit cl.dte.check", // the first check, which the SII's 500 fails
		"publish dte.delay", "deliver dte.submit", "submit cl.dte.check", // its fast retry, which fails again
		"publish dte.delay", "deliver dte.submit", "submit cl.dte.check", // its retry in the slow tier
		"publish dte.delay", "deliver dte.submit", "submit cl.dte.check", // the next check, later
		"publish dte.direct", "deliver dte.notify", "notify cl.dte.settled", "callback POST",
	}
	if !isSubsequence(want, path) {
		t.Errorf("the last callback's ancestry\n  %s\ndoes not follow the document's path\n  %s", strings.Join(path, " → "), strings.Join(want, " → "))
	}
	if path[len(path)-1] != "callback POST" || path[len(path)-2] != "notify cl.dte.settled" || path[len(path)-3] != "deliver dte.notify" {
		t.Errorf("the path ends %v, want deliver dte.notify → notify cl.dte.settled → callback POST", path[max(0, len(path)-3):])
	}

	// The stage's retries: each failed handling publishes the check again,
	// and the next attempt's handling descends from it; the slow tier's
	// also tells Odoo, through notify, in the same trace.
	results := map[string]int{}
	for _, s := range spans {
		if s.Name() != "submit cl.dte.check" {
			continue
		}
		res := attr(s, "dte.result")
		results[res]++
		if res != "retry" && res != "retrying" {
			continue
		}
		var again, told bool
		for _, pub := range children(spans, s) {
			switch pub.Name() {
			case "publish dte.delay":
				for _, d := range children(spans, pub) {
					for _, h := range children(spans, d) {
						again = again || h.Name() == "submit cl.dte.check"
					}
				}
			case "publish dte.direct":
				for _, d := range children(spans, pub) {
					for _, h := range children(spans, d) {
						if h.Name() == "notify cl.dte.retrying" {
							for _, c := range children(spans, h) {
								told = told || c.Name() == "callback POST"
							}
						}
					}
				}
			}
		}
		if !again {
			t.Errorf("the check's %s did not lead to another attempt in the trace", res)
		}
		if told != (res == "retrying") {
			t.Errorf("the check's %s: Odoo told %v, want %v", res, told, res == "retrying")
		}
	}
	if results["retry"] != 1 || results["retrying"] != 1 {
		t.Errorf("status check handlings by result %v, want one retry (fast tier) and one retrying (slow tier)", results)
	}
	for _, tt := range []struct {
		outcome string
		want    float64
	}{{"retry", 1}, {"retrying", 1}} {
		if got := testutil.ToFloat64(p.submit.M.EventsHandled.WithLabelValues("submit", "cl.dte.check", tt.outcome)); got != tt.want {
			t.Errorf("dte_events_handled_total{stage=submit,type=cl.dte.check,outcome=%s} = %v, want %v", tt.outcome, got, tt.want)
		}
	}
	if got := testutil.ToFloat64(p.submit.M.EventsEmitted.WithLabelValues("submit", "cl.dte.retrying")); got != 1 {
		t.Errorf("dte_events_emitted_total{stage=submit,type=cl.dte.retrying} = %v, want 1", got)
	}

	// The dispatcher's retry: the delivery Odoo refused, whose publish is
	// the parent of the second attempt's delivery.
	retried := false
	for _, s := range spans {
		if s.Name() != "deliver dte.notify" || attr(s, "dte.attempt") != "2" {
			continue
		}
		pub := byID[s.Parent().SpanID()]
		if pub == nil || pub.Name() != "publish dte.delay" {
			t.Errorf("the second attempt's parent is %v, want the retry's publish", pub)
			continue
		}
		first := byID[pub.Parent().SpanID()]
		if first == nil || first.Name() != "deliver dte.notify" || attr(first, "dte.action") != "retry" {
			t.Errorf("the retry's publish hangs from %v, want the failed delivery", first)
			continue
		}
		retried = true
	}
	if !retried {
		t.Error("no retried delivery in the trace (Odoo's 503 should have caused one)")
	}
	if got := testutil.ToFloat64(p.dispatcher.M.Retries.WithLabelValues("notify", "http_503")); got != 1 {
		t.Errorf("dte_retries_total{stage=notify,reason=http_503} = %v, want 1", got)
	}

	// Odoo got the trace id with every status, and every log line about
	// the document carries it.
	got := p.odoo.Received()
	statuses := map[string]bool{}
	for _, c := range got {
		statuses[c.Status] = true
	}
	for _, want := range []string{"queued", "signed", "sent", "retrying", "accepted"} {
		if !statuses[want] {
			t.Errorf("Odoo got no %s callback: %v", want, statuses)
		}
	}
	for _, c := range got {
		if c.TraceID != clickTrace {
			t.Errorf("callback %s has trace_id %q, want %s", c.Status, c.TraceID, clickTrace)
		}
	}
	lines := 0
	for _, l := range p.logs.lines() {
		if l["dtekey"] != key.String() {
			continue
		}
		lines++
		if l["trace_id"] != clickTrace {
			t.Errorf("log line without the document's trace id: %v", l)
		}
	}
	if lines < 8 {
		t.Errorf("%d log lines name the document, want every stage's and the dispatcher's", lines)
	}
}

// settledDelivered reports whether the dispatcher's delivery of
// cl.dte.settled to notify has ended (then every span under it has).
func settledDelivered(spans []sdktrace.ReadOnlySpan) bool {
	for _, s := range spans {
		if s.Name() == "deliver dte.notify" && attr(s, "cloudevents.event_type") == "cl.dte.settled" {
			return true
		}
	}
	return false
}

// children are the spans whose parent is s.
func children(spans []sdktrace.ReadOnlySpan, s sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, c := range spans {
		if c.Parent().SpanID() == s.SpanContext().SpanID() {
			out = append(out, c)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if kv.Key == attribute.Key(key) {
			return kv.Value.Emit()
		}
	}
	return ""
}

// isSubsequence reports whether want appears in got in order (other hops
// may come between: a pending check's own re-check).
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

package enqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/webhook"
)

const samples = "../../../samples/requests"

var testSecret = []byte("test-secret")

// recordingPublisher keeps what was published; err makes every publish fail.
type recordingPublisher struct {
	mu  sync.Mutex
	got []events.Event
	err error
}

func (p *recordingPublisher) PublishEvent(_ context.Context, e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.got = append(p.got, e)
	return nil
}

func newHandler(t testing.TB, pub Publisher, now time.Time) *Handler {
	t.Helper()
	v, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{
		Validator: v, Publisher: pub, Secret: testSecret, Window: 5 * time.Minute,
		PublishTimeout: 2 * time.Second, MaxBody: request.MaxRequestBodySize,
		Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
	}
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(samples + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edited returns the 33 sample with edit applied to its decoded form.
func edited(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(sample(t, "factura-33.json"), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sub(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
func line0(m map[string]any) map[string]any           { return m["lines"].([]any)[0].(map[string]any) }

type call struct {
	body        []byte
	contentType string
	sign        func(body []byte) string // nil: a good signature
}

func (h *Handler) do(c call, now time.Time) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(c.body))
	ct := c.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	sig := webhook.Sign(testSecret, now, c.body)
	if c.sign != nil {
		sig = c.sign(c.body)
	}
	if sig != "" {
		req.Header.Set(webhook.Header, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestBadRequestsAreRefusedAndNeverQueued(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		call   func(t *testing.T) call
		status int
		field  string // a field the problem must name (400 only)
		rule   string
	}{
		{"malformed JSON", func(t *testing.T) call { return call{body: []byte(`{"document":`)} }, 400, "(request)", "json-syntax"},
		{"JSON array", func(t *testing.T) call { return call{body: []byte(`[]`)} }, 400, "(request)", "type"},
		{"unknown document type 39", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "document")["type"] = 39 })}
		}, 400, "document.type", "enum"},
		{"folio is a string", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "document")["folio"] = "1042" })}
		}, 400, "document.folio", "type"},
		{"folio zero", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "document")["folio"] = 0 })}
		}, 400, "document.folio", "minimum"},
		{"issue date not ISO", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "document")["issue_date"] = "2026/11/27" })}
		}, 400, "document.issue_date", "date"},
		{"issue date does not exist", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "document")["issue_date"] = "2026-02-29" })}
		}, 400, "document.issue_date", "date"},
		{"issuer RUT check digit", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "issuer")["rut"] = "76086428-K" })}
		}, 400, "issuer.rut", "rut-check-digit"},
		{"receiver RUT format", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "receiver")["rut"] = "77.654.321-7" })}
		}, 400, "receiver.rut", "rut-format"},
		{"receiver RUT check digit", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "receiver")["rut"] = "77654321-1" })}
		}, 400, "receiver.rut", "rut-check-digit"},
		{"empty lines", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { m["lines"] = []any{} })}
		}, 400, "lines", "min-items"},
		{"quantity with 7 decimals", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { line0(m)["quantity"] = 0.1234567 })}
		}, 400, "lines[0].quantity", "max-decimals"},
		{"unit price with 7 decimals", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { line0(m)["unit_price"] = 1.0000001 })}
		}, 400, "lines[0].unit_price", "max-decimals"},
		{"line amount off by 1 peso", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { line0(m)["amount"] = 149999 })}
		}, 400, "lines[0].amount", "line-amount"},
		{"total off by 1 peso", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "totals")["total"] = 207617 })}
		}, 400, "totals.total", "totals-sum"},
		{"VAT not 19 percent of net", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) {
				sub(m, "totals")["vat"] = 32350
				sub(m, "totals")["total"] = 207617
			})}
		}, 400, "totals.vat", "totals-vat"},
		{"negative net", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "totals")["net"] = -1 })}
		}, 400, "totals.net", "minimum"},
		{"VAT on a factura exenta", func(t *testing.T) call {
			var m map[string]any
			_ = json.Unmarshal(sample(t, "factura-exenta-34.json"), &m)
			sub(m, "totals")["vat"] = 10
			sub(m, "totals")["total"] = 519760
			b, _ := json.Marshal(m)
			return call{body: b}
		}, 400, "totals.vat", "no-vat"},
		{"credit note without references", func(t *testing.T) call {
			var m map[string]any
			_ = json.Unmarshal(sample(t, "nota-credito-61.json"), &m)
			delete(m, "references")
			b, _ := json.Marshal(m)
			return call{body: b}
		}, 400, "references", "required"},
		{"name longer than the SII allows", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "receiver")["name"] = strings.Repeat("Ñ", 101) })}
		}, 400, "receiver.name", "max-length"},
		{"name outside ISO-8859-1", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { sub(m, "receiver")["name"] = "Importadora 北京 SpA" })}
		}, 400, "receiver.name", "iso-8859-1"},
		{"missing issuer", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { delete(m, "issuer") })}
		}, 400, "issuer", "required"},
		{"unknown field", func(t *testing.T) call {
			return call{body: edited(t, func(m map[string]any) { m["extra"] = true })}
		}, 400, "extra", "unknown-field"},
		{"2 MiB body", func(t *testing.T) call {
			return call{body: bytes.Repeat([]byte(" "), 2<<20)}
		}, 413, "", ""},
		{"not JSON content type", func(t *testing.T) call {
			return call{body: sample(t, "factura-33.json"), contentType: "text/plain"}
		}, 415, "", ""},
		{"form content type", func(t *testing.T) call {
			return call{body: []byte("a=b"), contentType: "application/x-www-form-urlencoded"}
		}, 415, "", ""},
		{"no signature", func(t *testing.T) call {
			return call{body: sample(t, "factura-33.json"), sign: func([]byte) string { return "" }}
		}, 401, "", ""},
		{"signature by another secret", func(t *testing.T) call {
			return call{body: sample(t, "factura-33.json"), sign: func(b []byte) string { return webhook.Sign([]byte("nope"), now, b) }}
		}, 401, "", ""},
		{"stale signature (6 minutes old)", func(t *testing.T) call {
			return call{body: sample(t, "factura-33.json"), sign: func(b []byte) string { return webhook.Sign(testSecret, now.Add(-6*time.Minute), b) }}
		}, 401, "", ""},
		{"signature of another body", func(t *testing.T) call {
			return call{body: sample(t, "factura-33.json"), sign: func([]byte) string { return webhook.Sign(testSecret, now, []byte("{}")) }}
		}, 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &recordingPublisher{}
			h := newHandler(t, pub, now)
			rec := h.do(tt.call(t), now)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q, want application/problem+json", ct)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != tt.status || p.Title == "" || p.Detail == "" {
				t.Fatalf("problem body %s (%v)", rec.Body, err)
			}
			if tt.field != "" && !names(p.Errors, tt.field, tt.rule) {
				t.Fatalf("problem does not name %s/%s: %+v", tt.field, tt.rule, p.Errors)
			}
			if len(pub.got) != 0 {
				t.Fatalf("a refused request was published: %v", pub.got)
			}
		})
	}
}

func names(vs []request.Violation, field, rule string) bool {
	for _, v := range vs {
		if v.Field == field && v.Rule == rule {
			return true
		}
	}
	return false
}

func TestAcceptedRequestPublishesRequestedEvent(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, name := range []string{"factura-33.json", "factura-exenta-34.json", "guia-despacho-52.json", "nota-debito-56.json", "nota-credito-61.json"} {
		t.Run(name, func(t *testing.T) {
			pub := &recordingPublisher{}
			h := newHandler(t, pub, now)
			body := sample(t, name)
			rec := h.do(call{body: body, contentType: "application/json; charset=utf-8"}, now)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var a Accepted
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			if len(pub.got) != 1 {
				t.Fatalf("published %d events", len(pub.got))
			}
			e := pub.got[0]
			if a.Status != "queued" || a.EventID != e.ID() || a.DTEKey != e.Subject() || e.Extensions()[events.ExtDTEKey] != a.DTEKey {
				t.Fatalf("answer %+v vs event %s/%s", a, e.ID(), e.Subject())
			}
			if e.Type() != events.TypeRequested || e.Source() != events.SourceEnqueue || !bytes.Equal(e.Data(), body) {
				t.Fatalf("event %s from %s, data equal to body: %v", e.Type(), e.Source(), bytes.Equal(e.Data(), body))
			}
			// The same request again is the same event: Odoo and the
			// functions recognise the repeat.
			rec2 := h.do(call{body: body}, now.Add(time.Second))
			var a2 Accepted
			_ = json.Unmarshal(rec2.Body.Bytes(), &a2)
			if a2.EventID != a.EventID {
				t.Fatalf("the same request got event ids %s and %s", a.EventID, a2.EventID)
			}
		})
	}
}

func TestBrokerFailureIs503WithRetryAfter(t *testing.T) {
	now := time.Now()
	pub := &recordingPublisher{err: errors.New("broker unavailable")}
	h := newHandler(t, pub, now)
	rec := h.do(call{body: sample(t, "factura-33.json")}, now)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestMethodAndPath(t *testing.T) {
	h := newHandler(t, &recordingPublisher{}, time.Now())
	for _, tc := range []struct {
		method, path string
		want         int
	}{{http.MethodGet, "/", 405}, {http.MethodPost, "/other", 404}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, io.NopCloser(strings.NewReader(""))))
		if rec.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

func TestTraceparent(t *testing.T) {
	in := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if got := traceparent(in); got != in {
		t.Errorf("kept %q as %q", in, got)
	}
	if got := traceparent("garbage"); !traceparentRE.MatchString(got) || got == traceparent("garbage") {
		t.Errorf("new trace %q", got)
	}
}

package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/serve/servetest"
	"github.com/dtecl/pipeline/shared/telemetry"
	"github.com/dtecl/pipeline/shared/webhook"
)

func TestMain(m *testing.M) { servetest.Main(m, main) }

// TestRefusesToStartWithoutItsSecret: a deployment that forgets
// CALLBACK_SECRET must not sign callbacks with a published value.
func TestRefusesToStartWithoutItsSecret(t *testing.T) {
	servetest.ExpectStartFailure(t, "notify", nil, "configuration:", "CALLBACK_SECRET is required (or CALLBACK_SECRET_FILE)", config.DevModeVar+"=true")
}

func TestConfigurationProblemsAreListed(t *testing.T) {
	err := run(t.Context(), config.Map(map[string]string{"CALLBACK_SECRET": "x", "CALLBACK_TIMEOUT": "10", "REPLY_MODE": "both"}))
	if err == nil || !strings.Contains(err.Error(), "CALLBACK_TIMEOUT") || !strings.Contains(err.Error(), "REPLY_MODE") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartsInDevelopmentMode(t *testing.T) {
	env := servetest.CertificateEnv(t)
	env[config.DevModeVar] = "true"
	servetest.StartAndStop(t, run, env)
}

// odoo records callbacks and answers each with the next status.
type odoo struct {
	mu       sync.Mutex
	got      []callback.Payload
	statuses []int
	t        *testing.T
}

func (o *odoo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify([]byte("cb-secret"), r.Header.Get(webhook.Header), body, time.Now(), webhook.DefaultWindow); err != nil {
		o.t.Errorf("callback signature: %v", err)
	}
	if r.Header.Get(callback.HeaderDatabase) != "odoo19" {
		o.t.Errorf("database header %q", r.Header.Get(callback.HeaderDatabase))
	}
	var p callback.Payload
	_ = json.Unmarshal(body, &p)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, p)
	status := 200
	if len(o.statuses) > 0 {
		status, o.statuses = o.statuses[0], o.statuses[1:]
	}
	w.WriteHeader(status)
}

func (o *odoo) payloads() []callback.Payload {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]callback.Payload(nil), o.got...)
}

// TestMux: status events on /, dead letters on /dead, the callback signed
// with CALLBACK_SECRET, one POST per delivery.
func TestMux(t *testing.T) {
	o := &odoo{t: t}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	var cfg config.Notify
	if _, err := config.Load(config.Map(map[string]string{"CALLBACK_SECRET": "cb-secret", "ODOO_CALLBACK_URL": srv.URL, "CERT_FILE": "unused.p12"}), &cfg); err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(t.Context(), "notify", cfg.Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(cfg, nil, tel, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := serve.Mux(h, nil)
	k, _ := dtekey.Parse("76086428-5-33-1042")
	mk := func(typ string, data any, ext map[string]string) events.Event {
		e, err := events.New("id-"+typ, typ, "/test", k, data)
		if err != nil {
			t.Fatal(err)
		}
		for n, v := range ext {
			e.SetExtension(n, v)
		}
		return e
	}
	post := func(path string, e events.Event) int { return servetest.PostEvent(t, mux, path, e).Code }
	db := request.Odoo{Database: "odoo19", MoveID: 7}
	if got := post("/", mk(events.TypeSigned, events.Signed{Odoo: db}, nil)); got != 200 {
		t.Fatalf("cl.dte.signed on /: %d", got)
	}
	if got := post("/", mk(events.TypeCheck, events.Check{Odoo: db}, nil)); got != http.StatusUnprocessableEntity {
		t.Errorf("cl.dte.check (not notify's) on /: %d, want 422", got)
	}
	if got := post("/dead", mk(events.TypeRequested, request.Request{Odoo: db}, map[string]string{events.ExtDeadQueue: events.QueueSign, events.ExtDeadReason: "HTTP 503"})); got != 200 {
		t.Fatalf("a dead letter on /dead: %d", got)
	}
	o.mu.Lock()
	o.statuses = []int{503, 200}
	o.mu.Unlock()
	if got := post("/", mk(events.TypeSubmitted, events.Submitted{TrackID: "1", Odoo: db}, nil)); got != http.StatusServiceUnavailable {
		t.Errorf("Odoo answering 503: %d, want 503 for the platform to retry", got)
	}
	got := o.payloads()
	var statuses []string
	for _, p := range got {
		statuses = append(statuses, p.Status)
	}
	if strings.Join(statuses, " ") != "signed error sent" {
		t.Fatalf("Odoo got %v, want signed, error, then one POST of sent (no retry loop inside)", statuses)
	}
	if !strings.Contains(got[1].Message, "firma") {
		t.Errorf("the dead letter's callback does not name the stage: %q", got[1].Message)
	}
	// The wiring's telemetry: every callback by status code, the events
	// handled, the dead letter by stage and reason class.
	m := tel.M
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"callbacks 200", testutil.ToFloat64(m.CallbackRequests.WithLabelValues("200")), 2},
		{"callbacks 503", testutil.ToFloat64(m.CallbackRequests.WithLabelValues("503")), 1},
		{"signed handled ok", testutil.ToFloat64(m.EventsHandled.WithLabelValues("notify", events.TypeSigned, "ok")), 1},
		{"check refused", testutil.ToFloat64(m.EventsHandled.WithLabelValues("notify", events.TypeCheck, "poison")), 1},
		{"submitted transient", testutil.ToFloat64(m.EventsHandled.WithLabelValues("notify", events.TypeSubmitted, "transient")), 1},
		{"dead letter from sign", testutil.ToFloat64(m.DeadReported.WithLabelValues("sign", "http_503")), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

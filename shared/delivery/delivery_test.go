package delivery

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/stage"
)

type fakePublisher struct {
	mu     sync.Mutex
	got    []events.Event
	keys   []string
	delays []time.Duration
	err    error
}

func (p *fakePublisher) PublishEventTo(_ context.Context, key string, e events.Event, delay time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.got, p.keys, p.delays = append(p.got, e), append(p.keys, key), append(p.delays, delay)
	return nil
}

// one is a stage that emits at most one event at once, as every stage did
// before stages could emit several.
func one(h func(context.Context, events.Event) (*events.Event, error)) stage.Handler {
	return func(ctx context.Context, e events.Event) ([]stage.Emit, error) { return stage.One(h(ctx, e)) }
}

var key, _ = dtekey.Parse("76086428-5-33-7")

func signedEvent(t *testing.T) events.Event {
	t.Helper()
	e, err := events.New("in-1", events.TypeSigned, events.SourceSign, key, events.Signed{DTEKey: key.String(), Odoo: request.Odoo{Database: "odoo", MoveID: 9}})
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(events.ExtTraceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	return e
}

func nextEvent(t *testing.T) *events.Event {
	e, err := events.New("out-1", events.TypeSubmitted, events.SourceSubmit, key, events.Submitted{DTEKey: key.String(), TrackID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	return &e
}

// post sends e in binary mode (as Knative does) or structured mode.
func post(t *testing.T, h http.Handler, e events.Event, structured bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	var err error
	if structured {
		body, _ := events.Marshal(e)
		req = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", events.ContentTypeStructured)
	} else {
		err = cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req)
	}
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestStatusCarriesTheRetryDecision(t *testing.T) {
	tests := []struct {
		name       string
		handler    stage.Handler
		pubErr     error
		structured bool
		wantStatus int
		wantType   string // type published, "" for none
	}{
		{"next event published", one(func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }), nil, false, 200, events.TypeSubmitted},
		{"structured input", one(func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }), nil, true, 200, events.TypeSubmitted},
		{"nothing next", one(func(context.Context, events.Event) (*events.Event, error) { return nil, nil }), nil, false, 200, ""},
		{"permanent becomes cl.dte.failed", one(func(context.Context, events.Event) (*events.Event, error) {
			return nil, errs.Permanentf("folio 7 outside every CAF")
		}), nil, false, 200, events.TypeFailed},
		{"transient is 503", one(func(context.Context, events.Event) (*events.Event, error) { return nil, errors.New("SII timeout") }), nil, false, 503, ""},
		{"panic is 500", one(func(context.Context, events.Event) (*events.Event, error) { panic("boom") }), nil, false, 500, ""},
		{"publish failure is 503", one(func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }), errors.New("broker down"), false, 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{err: tt.pubErr}
			h, err := New(tt.handler, Config{Stage: "submit", Types: []string{events.TypeSigned}, Publisher: pub})
			if err != nil {
				t.Fatal(err)
			}
			rec := post(t, h, signedEvent(t), tt.structured)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantType == "" {
				if len(pub.got) != 0 {
					t.Fatalf("published %v", pub.got)
				}
				return
			}
			if len(pub.got) != 1 || pub.got[0].Type() != tt.wantType {
				t.Fatalf("published %v, want one %s", pub.got, tt.wantType)
			}
			got := pub.got[0]
			if got.Extensions()[events.ExtTraceparent] == nil {
				t.Fatal("trace context not propagated to the next event")
			}
			if tt.wantType == events.TypeFailed {
				f, err := events.Decode[events.Failed](got)
				if err != nil {
					t.Fatal(err)
				}
				if f.Stage != "submit" || !strings.Contains(f.Reason, "outside every CAF") || f.Retryable || f.Odoo.MoveID != 9 || f.DTEKey != key.String() {
					t.Fatalf("failed data %+v", f)
				}
			}
		})
	}
}

func TestPoison(t *testing.T) {
	pub := &fakePublisher{}
	h, _ := New(one(func(context.Context, events.Event) (*events.Event, error) { return nil, nil }), Config{Stage: "sign", Types: []string{events.TypeRequested}, Publisher: pub})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("not an event"))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Fatalf("non-CloudEvent answered %d", rec.Code)
	}
	if rec := post(t, h, signedEvent(t), false); rec.Code != 422 {
		t.Fatalf("unexpected type answered %d", rec.Code)
	}
	// A permanent failure on an event without a dtekey cannot be reported
	// to Odoo: it must be dead-lettered, not acknowledged.
	h2, _ := New(one(func(context.Context, events.Event) (*events.Event, error) { return nil, errs.Permanentf("bad") }), Config{Stage: "sign", Publisher: pub})
	e := signedEvent(t)
	e.SetExtension(events.ExtDTEKey, nil)
	if rec := post(t, h2, e, false); rec.Code != 422 {
		t.Fatalf("permanent failure without a document answered %d", rec.Code)
	}
	if len(pub.got) != 0 {
		t.Fatalf("poison produced events: %v", pub.got)
	}
}

func TestReplyMode(t *testing.T) {
	h, err := New(one(func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }), Config{Stage: "submit", Mode: ModeReply})
	if err != nil {
		t.Fatal(err)
	}
	rec := post(t, h, signedEvent(t), false)
	if rec.Code != 200 || rec.Header().Get("Ce-Type") != events.TypeSubmitted || rec.Header().Get("Ce-Dtekey") != key.String() {
		t.Fatalf("reply %d headers %v", rec.Code, rec.Header())
	}
	if _, err := New(nil, Config{Mode: "bogus"}); err == nil {
		t.Fatal("accepted an unknown mode")
	}
}

func checkEvent(t *testing.T, id string) events.Event {
	t.Helper()
	e, err := events.New(id, events.TypeCheck, events.SourceSubmit, key, events.Check{DTEKey: key.String(), TrackID: "42", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEveryEmittedEventIsConfirmed: a stage that emits several events
// (submitted at once, a status check later, itself again later) is
// answered 2xx only after the broker confirmed each, in both modes; in
// reply mode the event emitted at once is the reply, the others are
// published (the broker cannot delay a reply).
func TestEveryEmittedEventIsConfirmed(t *testing.T) {
	emits := func(t *testing.T) stage.Handler {
		return func(_ context.Context, in events.Event) ([]stage.Emit, error) {
			return []stage.Emit{stage.Now(*nextEvent(t)), stage.Later(checkEvent(t, "check-1"), 5*time.Second), stage.Again(in, 30*time.Second)}, nil
		}
	}
	t.Run("publish", func(t *testing.T) {
		pub := &fakePublisher{}
		h, _ := New(emits(t), Config{Stage: "submit", Queue: "dte.submit", Publisher: pub})
		if rec := post(t, h, signedEvent(t), false); rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		want := []string{"cl.dte.submitted/cl.dte.submitted/0s", "cl.dte.check/cl.dte.check/5s", "cl.dte.signed/dte.submit/30s"}
		if got := published(pub); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("published %v, want %v", got, want)
		}
		for _, e := range pub.got {
			if e.Extensions()[events.ExtTraceparent] != signedEvent(t).Extensions()[events.ExtTraceparent] {
				t.Fatalf("%s lost the trace context", e.Type())
			}
		}
	})
	t.Run("reply", func(t *testing.T) {
		pub := &fakePublisher{}
		h, _ := New(emits(t), Config{Stage: "submit", Queue: "dte.submit", Mode: ModeReply, Publisher: pub})
		rec := post(t, h, signedEvent(t), false)
		if rec.Code != 200 || rec.Header().Get("Ce-Type") != events.TypeSubmitted {
			t.Fatalf("reply %d headers %v", rec.Code, rec.Header())
		}
		want := []string{"cl.dte.check/cl.dte.check/5s", "cl.dte.signed/dte.submit/30s"}
		if got := published(pub); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("published %v, want %v", got, want)
		}
	})
	t.Run("a failed publish is 503", func(t *testing.T) {
		pub := &fakePublisher{err: errors.New("no confirm")}
		h, _ := New(emits(t), Config{Stage: "submit", Queue: "dte.submit", Mode: ModeReply, Publisher: pub})
		if rec := post(t, h, signedEvent(t), false); rec.Code != 503 || rec.Header().Get("Ce-Type") != "" {
			t.Fatalf("status %d, reply type %q", rec.Code, rec.Header().Get("Ce-Type"))
		}
	})
}

// TestWhatAModeCannotCarryIsABug: two events at once in reply mode, a
// redelivery without a queue, events without a publisher: 500, nothing
// published.
func TestWhatAModeCannotCarryIsABug(t *testing.T) {
	tests := []struct {
		name  string
		emits func(in events.Event) []stage.Emit
		cfg   Config
	}{
		{"two replies", func(events.Event) []stage.Emit {
			return []stage.Emit{stage.Now(*nextEvent(t)), stage.Now(checkEvent(t, "c"))}
		}, Config{Mode: ModeReply, Queue: "dte.submit"}},
		{"redelivery without a queue", func(in events.Event) []stage.Emit { return []stage.Emit{stage.Again(in, time.Second)} }, Config{}},
		{"no publisher", func(events.Event) []stage.Emit { return []stage.Emit{stage.Later(checkEvent(t, "c"), time.Second)} }, Config{Mode: ModeReply}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			cfg := tt.cfg
			cfg.Stage = "submit"
			if tt.name != "no publisher" {
				cfg.Publisher = pub
			}
			h, _ := New(func(_ context.Context, in events.Event) ([]stage.Emit, error) { return tt.emits(in), nil }, cfg)
			if rec := post(t, h, signedEvent(t), false); rec.Code != 500 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if len(pub.got) != 0 {
				t.Fatalf("published %v", published(pub))
			}
		})
	}
}

// TestErrorEmitsNothing: events returned with an error are not published.
func TestErrorEmitsNothing(t *testing.T) {
	pub := &fakePublisher{}
	h, _ := New(func(context.Context, events.Event) ([]stage.Emit, error) {
		return []stage.Emit{stage.Now(*nextEvent(t))}, errors.New("SII timeout")
	}, Config{Stage: "submit", Publisher: pub})
	if rec := post(t, h, signedEvent(t), false); rec.Code != 503 || len(pub.got) != 0 {
		t.Fatalf("status %d, published %v", rec.Code, published(pub))
	}
}

func published(p *fakePublisher) []string {
	var out []string
	for i, e := range p.got {
		out = append(out, e.Type()+"/"+p.keys[i]+"/"+p.delays[i].String())
	}
	return out
}

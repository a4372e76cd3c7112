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

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

type fakePublisher struct {
	mu  sync.Mutex
	got []events.Event
	err error
}

func (p *fakePublisher) PublishEvent(_ context.Context, e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.got = append(p.got, e)
	return nil
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
		handler    Handler
		pubErr     error
		structured bool
		wantStatus int
		wantType   string // type published, "" for none
	}{
		{"next event published", func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }, nil, false, 200, events.TypeSubmitted},
		{"structured input", func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }, nil, true, 200, events.TypeSubmitted},
		{"nothing next", func(context.Context, events.Event) (*events.Event, error) { return nil, nil }, nil, false, 200, ""},
		{"permanent becomes cl.dte.failed", func(context.Context, events.Event) (*events.Event, error) {
			return nil, errs.Permanentf("folio 7 outside every CAF")
		}, nil, false, 200, events.TypeFailed},
		{"transient is 503", func(context.Context, events.Event) (*events.Event, error) { return nil, errors.New("SII timeout") }, nil, false, 503, ""},
		{"panic is 500", func(context.Context, events.Event) (*events.Event, error) { panic("boom") }, nil, false, 500, ""},
		{"publish failure is 503", func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }, errors.New("broker down"), false, 503, ""},
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
	h, _ := New(func(context.Context, events.Event) (*events.Event, error) { return nil, nil }, Config{Stage: "sign", Types: []string{events.TypeRequested}, Publisher: pub})
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
	h2, _ := New(func(context.Context, events.Event) (*events.Event, error) { return nil, errs.Permanentf("bad") }, Config{Stage: "sign", Publisher: pub})
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
	h, err := New(func(context.Context, events.Event) (*events.Event, error) { return nextEvent(t), nil }, Config{Stage: "submit", Mode: ModeReply})
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

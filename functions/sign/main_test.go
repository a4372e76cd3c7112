package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/serve/servetest"
	"github.com/dtecl/pipeline/shared/stage"
)

func TestMain(m *testing.M) { servetest.Main(m, main) }

func TestRefusesToStartWithoutACertificate(t *testing.T) {
	status, out := servetest.RunMain(t, "PORT=0", "LOCK_FILE="+filepath.Join(t.TempDir(), "lock"))
	if status != 1 || !strings.Contains(out, "sign: configuration:") || !strings.Contains(out, "CERT_FILE is required") {
		t.Fatalf("exit status %d, want 1 naming CERT_FILE:\n%s", status, out)
	}
}

func TestStartUpErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CERT_FILE": "/nonexistent/cert.p12", "S3_PROBE": "maybe", "REPLY_MODE": "answer"}, "S3_PROBE"},
		{map[string]string{"CERT_FILE": "/nonexistent/cert.p12", "REPLY_MODE": "answer"}, `REPLY_MODE="answer" must be one of publish, reply`},
		{map[string]string{"CERT_FILE": "/nonexistent/cert.p12"}, "certificate /nonexistent/cert.p12"},
	}
	for _, tt := range tests {
		if err := run(t.Context(), config.Map(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tt.env, err, tt.want)
		}
	}
}

type recorder struct {
	mu   sync.Mutex
	keys []string
}

func (r *recorder) PublishEventTo(_ context.Context, key string, e events.Event, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key+"/"+d.String())
	return nil
}

// TestHandlerWiring: sign takes cl.dte.requested only, publishes what the
// stage emits, sends what it redelivers to dte.sign, and replies in reply
// mode.
func TestHandlerWiring(t *testing.T) {
	k, _ := dtekey.Parse("76086428-5-33-1042")
	in, err := events.New("in", events.TypeRequested, events.SourceEnqueue, k, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	next, _ := events.New("out", events.TypeSigned, events.SourceSign, k, events.Signed{DTEKey: k.String()})
	fake := func(_ context.Context, e events.Event) ([]stage.Emit, error) {
		return []stage.Emit{stage.Now(next), stage.Again(e, 5*time.Second)}, nil
	}
	post := func(h http.Handler, e events.Event) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, mode := range []string{"publish", "reply"} {
		t.Run(mode, func(t *testing.T) {
			var cfg config.Sign
			if _, err := config.Load(config.Map(map[string]string{"CERT_FILE": "x", "REPLY_MODE": mode}), &cfg); err != nil {
				t.Fatal(err)
			}
			pub := &recorder{}
			h, err := newHandler(cfg, fake, pub, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if rec := post(h, next); rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("cl.dte.signed (not sign's): %d, want 422", rec.Code)
			}
			rec := post(h, in)
			want := "cl.dte.signed/0s " + bus.QueueSign + "/5s"
			if mode == "reply" {
				want = bus.QueueSign + "/5s"
				if rec.Header().Get("Ce-Type") != events.TypeSigned {
					t.Errorf("reply without cl.dte.signed: %v", rec.Header())
				}
			}
			if rec.Code != 200 || strings.Join(pub.keys, " ") != want {
				t.Fatalf("status %d, published %v, want %s", rec.Code, pub.keys, want)
			}
		})
	}
}

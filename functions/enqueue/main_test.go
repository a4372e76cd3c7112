package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/serve/servetest"
	"github.com/dtecl/pipeline/shared/webhook"
)

func TestMain(m *testing.M) { servetest.Main(m, main) }

// TestRefusesToStartWithoutItsSecret: a deployment that forgets
// ENQUEUE_SECRET must not accept anyone's requests with a published value.
func TestRefusesToStartWithoutItsSecret(t *testing.T) {
	servetest.ExpectStartFailure(t, "enqueue", nil, "configuration:", "ENQUEUE_SECRET is required (or ENQUEUE_SECRET_FILE)", config.DevModeVar+"=true")
}

func TestConfigurationProblemsAreListed(t *testing.T) {
	err := run(t.Context(), config.Map(map[string]string{
		"SIGNATURE_WINDOW": "5", "PUBLISH_CHANNELS": "many", "ENQUEUE_SECRET_FILE": "/nonexistent/secret", "LOG_LEVEL": "chatty",
	}))
	if err == nil {
		t.Fatal("started with a bad configuration")
	}
	for _, want := range []string{"SIGNATURE_WINDOW", "PUBLISH_CHANNELS", "ENQUEUE_SECRET_FILE", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

// TestStartsInDevelopmentMode: with the switch on and nothing else set,
// enqueue starts (on the local development secret) and stops cleanly.
func TestStartsInDevelopmentMode(t *testing.T) {
	servetest.StartAndStop(t, run, map[string]string{config.DevModeVar: "true"})
}

type recorder struct {
	mu  sync.Mutex
	got []events.Event
}

func (r *recorder) PublishEvent(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
	return nil
}

// TestHandlerWiring: the configuration reaches the handler (secret, body
// limit) and the health paths answer next to it.
func TestHandlerWiring(t *testing.T) {
	var cfg config.Enqueue
	if _, err := config.Load(config.Map(map[string]string{"ENQUEUE_SECRET": "s3cret", "MAX_BODY_BYTES": "100000"}), &cfg); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	arch := archive.New(archivetest.NewMem())
	h, err := newHandler(cfg, pub, arch, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := serve.Mux(h, nil)
	body, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		t.Fatal(err)
	}
	post := func(secret string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.Header, webhook.Sign([]byte(secret), time.Now(), body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	if got := post("s3cret", body); got != http.StatusAccepted || len(pub.got) != 1 {
		t.Fatalf("a request signed with ENQUEUE_SECRET: %d, %d published", got, len(pub.got))
	}
	if got := post(config.DevValueOf(config.Enqueue{}, "ENQUEUE_SECRET"), body); got != http.StatusUnauthorized {
		t.Errorf("a request signed with the development secret: %d, want 401", got)
	}
	if got := post("s3cret", append(body, bytes.Repeat([]byte(" "), 100000)...)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over MAX_BODY_BYTES: %d, want 413", got)
	}
	for path, want := range map[string]int{serve.PathHealthz: 200, serve.PathReady: 200, "/": 405} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	// The archive reaches the handler: a folio signed from another request
	// is refused at once.
	k, _ := dtekey.Parse("76086428-5-33-1042")
	if _, err := arch.PutDTE(t.Context(), k, []byte("<DTE/>"), "another-request"); err != nil {
		t.Fatal(err)
	}
	if got := post("s3cret", body); got != http.StatusConflict || len(pub.got) != 1 {
		t.Errorf("a request for a folio signed from another request: %d, %d published; want 409 and nothing more", got, len(pub.got))
	}
}

// TestFolioCheckOff: with FOLIO_CHECK=off enqueue does not read the
// archive: a request for a folio signed from another request is queued
// (sign refuses it), and the archive sees no call.
func TestFolioCheckOff(t *testing.T) {
	for _, tt := range []struct {
		check     string
		wantCode  int
		wantReads int
	}{
		{"archive", http.StatusConflict, 2}, // the DTE's metadata, then its state for the 409's document_status
		{"off", http.StatusAccepted, 0},
	} {
		t.Run(tt.check, func(t *testing.T) {
			var cfg config.Enqueue
			if _, err := config.Load(config.Map(map[string]string{"ENQUEUE_SECRET": "s3cret", "FOLIO_CHECK": tt.check}), &cfg); err != nil {
				t.Fatal(err)
			}
			mem := archivetest.NewMem()
			arch := archive.New(mem)
			k, _ := dtekey.Parse("76086428-5-33-1042")
			if _, err := arch.PutDTE(t.Context(), k, []byte("<DTE/>"), "another-request"); err != nil {
				t.Fatal(err)
			}
			h, err := newHandler(cfg, &recorder{}, arch, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			body, err := os.ReadFile("../../samples/requests/factura-33.json")
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(webhook.Header, webhook.Sign([]byte("s3cret"), time.Now(), body))
			rec := httptest.NewRecorder()
			reads := func() int { return mem.Calls("get") + mem.Calls("head") }
			before := reads()
			serve.Mux(h, nil).ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || reads()-before != tt.wantReads {
				t.Fatalf("%d with %d archive reads, want %d with %d: %s", rec.Code, reads()-before, tt.wantCode, tt.wantReads, rec.Body)
			}
		})
	}
	var cfg config.Enqueue
	if _, err := config.Load(config.Map(map[string]string{"ENQUEUE_SECRET": "s3cret", "FOLIO_CHECK": "maybe"}), &cfg); err == nil || !strings.Contains(err.Error(), "FOLIO_CHECK") {
		t.Fatalf("FOLIO_CHECK=maybe: %v, want an error naming it", err)
	}
}

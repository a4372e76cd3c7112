package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/serve/servetest"
	"github.com/dtecl/pipeline/shared/stage"
)

func TestMain(m *testing.M) { servetest.Main(m, main) }

func TestRefusesToStartWithoutACertificate(t *testing.T) {
	servetest.ExpectStartFailure(t, "sign", nil, "configuration:", "CERT_FILE is required")
}

// TestStartsAndStops: with a certificate and nothing else set, the whole
// wiring comes up (certificate, signer, archive client without its probe,
// publisher) and stops cleanly.
func TestStartsAndStops(t *testing.T) {
	servetest.StartAndStop(t, run, servetest.CertificateEnv(t))
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
	for _, mode := range []string{"publish", "reply"} {
		t.Run(mode, func(t *testing.T) {
			var cfg config.Sign
			if _, err := config.Load(config.Map(map[string]string{"CERT_FILE": "x", "REPLY_MODE": mode}), &cfg); err != nil {
				t.Fatal(err)
			}
			pub := &servetest.Publisher{}
			h, err := newHandler(cfg, fake, pub, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if rec := servetest.PostEvent(t, h, "/", next); rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("cl.dte.signed (not sign's): %d, want 422", rec.Code)
			}
			rec := servetest.PostEvent(t, h, "/", in)
			want := "cl.dte.signed/0s " + bus.QueueSign + "/5s"
			if mode == "reply" {
				want = bus.QueueSign + "/5s"
				if rec.Header().Get("Ce-Type") != events.TypeSigned {
					t.Errorf("reply without cl.dte.signed: %v", rec.Header())
				}
			}
			if rec.Code != 200 || pub.Sent() != want {
				t.Fatalf("status %d, published %s, want %s", rec.Code, pub.Sent(), want)
			}
		})
	}
}

// TestNotReadyWithoutBrokerOrArchive: alive, not ready (saying why), and
// serving its metrics while the broker and the archive are out of reach.
func TestNotReadyWithoutBrokerOrArchive(t *testing.T) {
	servetest.ExpectNotReadyWithoutBrokerOrArchive(t, run)
}

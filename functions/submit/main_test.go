package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/serve/servetest"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
	"github.com/dtecl/pipeline/shared/stage/submit"
)

func TestMain(m *testing.M) { servetest.Main(m, main) }

func TestRefusesToStartWithoutACertificate(t *testing.T) {
	servetest.ExpectStartFailure(t, "submit", nil, "configuration:", "CERT_FILE is required")
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
		{map[string]string{"CERT_FILE": "x", "CHECK_DELAYS": "1s,0s"}, "CHECK_DELAYS"},
		{map[string]string{"CERT_FILE": "x", "SII_TIMEOUT": "30"}, "SII_TIMEOUT"},
		{map[string]string{"CERT_FILE": "/nonexistent/cert.p12"}, "certificate /nonexistent/cert.p12"},
	}
	for _, tt := range tests {
		if err := run(t.Context(), config.Map(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tt.env, err, tt.want)
		}
	}
}

func TestSIIEnvironment(t *testing.T) {
	for in, want := range map[string]sii.Environment{
		"maullin": sii.Maullin, "Certificacion": sii.Maullin, "palena": sii.Palena, "PRODUCTION": sii.Palena,
		"http://127.0.0.1:8089": sii.Environment("http://127.0.0.1:8089"),
	} {
		if got := siiEnvironment(in); got != want {
			t.Errorf("SII_ENV=%s: %v, want %v", in, got, want)
		}
	}
}

// TestHandlerWiring: submit takes its two types, and what it sends back to
// itself goes to dte.submit, after the delay.
func TestHandlerWiring(t *testing.T) {
	var cfg config.Submit
	if _, err := config.Load(config.Map(map[string]string{"CERT_FILE": "x"}), &cfg); err != nil {
		t.Fatal(err)
	}
	pub := &servetest.Publisher{}
	h, err := newHandler(cfg, func(_ context.Context, e events.Event) ([]stage.Emit, error) {
		return []stage.Emit{stage.Again(e, 30*time.Second)}, nil
	}, pub, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := dtekey.Parse("76086428-5-61-23")
	for _, typ := range []string{events.TypeSigned, events.TypeCheck, events.TypeRequested} {
		e, _ := events.New("in-"+typ, typ, "/test", k, map[string]string{})
		rec := servetest.PostEvent(t, h, "/", e)
		want := 200
		if typ == events.TypeRequested {
			want = http.StatusUnprocessableEntity
		}
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", typ, rec.Code, want)
		}
	}
	if got := pub.Sent(); got != bus.QueueSubmit+"/30s "+bus.QueueSubmit+"/30s" {
		t.Fatalf("published %s", got)
	}
}

// TestEnvelopeAdapter: the stage's Enveloper, made of dte.Signer, wraps a
// signed DTE in a signed EnvioDTE with the issuer and resolution given.
func TestEnvelopeAdapter(t *testing.T) {
	pki := dtetest.MustShared(t)
	body, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	req, err := v.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := pki.MustCAF(t, dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "EMPRESA", Type: 33, From: 1, To: 2000})
	signer, err := dte.NewSigner(pki.Signer, dte.WithSIIKeys(pki.Keys()))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signer.Sign(t.Context(), req, []*caf.CAF{c})
	if err != nil {
		t.Fatal(err)
	}
	envio, id, err := envelopes{signer}.Envelope(t.Context(), signed.XML, submit.Caratula{Issuer: dtetest.IssuerRUT, Resolution: req.Issuer.Resolution}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if id == "" || !bytes.Contains(envio, []byte("<EnvioDTE")) || !bytes.Contains(envio, []byte("<RutEmisor>"+dtetest.IssuerRUT.String()+"</RutEmisor>")) {
		t.Fatalf("envelope %q: %.300s", id, envio)
	}
	if _, _, err := (envelopes{signer}).Envelope(t.Context(), []byte("<not-a-dte/>"), submit.Caratula{Issuer: dtetest.IssuerRUT}, time.Now()); err == nil {
		t.Error("an envelope around something that is not a DTE")
	}
}

// TestNotReadyWithoutBrokerOrArchive: alive, not ready (saying why), and
// serving its metrics while the broker and the archive are out of reach.
func TestNotReadyWithoutBrokerOrArchive(t *testing.T) {
	servetest.ExpectNotReadyWithoutBrokerOrArchive(t, run)
}

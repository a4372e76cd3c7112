package dte_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/rut"
)

// TestReceiverEnvelope wraps each sample type for its receiver and checks
// the envelope as TestEnvelope does (xmllint against EnvioDTE_v10.xsd,
// xmlsec1 on SetDTE in place and on the DTE taken out, Verify), plus the
// Carátula's receiver.
func TestReceiverEnvelope(t *testing.T) {
	f := getFixture(t)
	for _, name := range sampleNames(t) {
		t.Run(name, func(t *testing.T) {
			req := sample(t, name)
			signed := sign(t, req).XML
			env, err := f.signer.ReceiverEnvelope(context.Background(), signed, resolution)
			if err != nil {
				t.Fatal(err)
			}
			want := rut.MustParse(req.Receiver.RUT)
			if env.Receiver != want || env.Issuer != dtetest.IssuerRUT || env.Sender != dtetest.SignerRUT {
				t.Errorf("RUTs: receptor %s emisor %s envía %s", env.Receiver, env.Issuer, env.Sender)
			}
			if !strings.Contains(string(env.XML), "<RutReceptor>"+want.String()+"</RutReceptor>") {
				t.Error("the Carátula is not addressed to the receiver")
			}
			checkEnvelope(t, f, env, [][]byte{signed})
			r := dte.Verify(env.XML, dte.VerifyOptions{Keys: f.pki.Keys()})
			if r.Envelope == nil || r.Envelope.Caratula == nil || r.Envelope.Caratula.Receiver != want.String() {
				t.Errorf("Verify reads RutReceptor %+v", r.Envelope)
			}
		})
	}
}

func TestReceiverEnvelopeRefuses(t *testing.T) {
	f := getFixture(t)
	signed := string(sign(t, sample(t, "factura-33.json")).XML)
	env, err := f.signer.Envelope(context.Background(), dte.Header{Resolution: resolution}, []byte(signed))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc string
		want      error
	}{
		{"an EnvioDTE", string(env.XML), dte.ErrNotDTE},
		{"not XML", "nope", dte.ErrNotDTE},
		{"foreign receiver", strings.Replace(signed, "<RUTRecep>77654321-7<", "<RUTRecep>55555555-5<", 1), dte.ErrEnvelope},
		{"bad receiver RUT", strings.Replace(signed, "<RUTRecep>77654321-7<", "<RUTRecep>77654321-8<", 1), dte.ErrNotDTE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.signer.ReceiverEnvelope(context.Background(), []byte(tc.doc), resolution)
			if !errors.Is(err, tc.want) || !errs.IsPermanent(err) {
				t.Errorf("got %v, want %v (permanent)", err, tc.want)
			}
		})
	}
	if !strings.Contains(signed, "<RUTRecep>77654321-7<") {
		t.Fatal("the sample's receiver changed: the cases above test nothing")
	}
}

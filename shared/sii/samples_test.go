package sii

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/testenv"
)

// samplesDir holds the SII's answers transcribed from its manuals.
const samplesDir = "../../testdata/sii/sii-responses"

// TestSIIResponseSamples parses every file of the samples folder with the
// parser for its kind and checks the result. A file without an expectation
// fails the test, so a new sample cannot be silently ignored.
func TestSIIResponseSamples(t *testing.T) {
	entries := testenv.ReadDir(t, samplesDir)
	checks := map[string]func(t *testing.T, b []byte){
		"getSeed_soap_response.xml": func(t *testing.T, b []byte) {
			ret, e := readSOAPAnswer(OpGetSeed, 200, "text/xml; charset=utf-8", b)
			if e != nil {
				t.Fatalf("readSOAPAnswer: %v", e)
			}
			seed, e := parseSeed(ret)
			if e != nil {
				t.Fatalf("parseSeed: %v", e)
			}
			if seed != "000000000078" {
				t.Errorf("seed = %q, want 000000000078 (leading zeros kept)", seed)
			}
		},
		"getToken_soap_response.xml": func(t *testing.T, b []byte) {
			ret, e := readSOAPAnswer(OpGetToken, 200, "text/xml", b)
			if e != nil {
				t.Fatalf("readSOAPAnswer: %v", e)
			}
			tok, e := parseToken(ret)
			if e != nil {
				t.Fatalf("parseToken: %v", e)
			}
			if tok != "XAuSbYXiNh9Ik" {
				t.Errorf("token = %q, want XAuSbYXiNh9Ik", tok)
			}
		},
		"getEstUp_EPR_inner.xml": func(t *testing.T, b []byte) {
			st, e := parseEstUp(string(b))
			if e != nil {
				t.Fatalf("parseEstUp: %v", e)
			}
			want := UploadStatus{TrackID: "251", Result: Accepted, Estado: "EPR", Glosa: "Envio Procesado",
				NumAtencion: "532 ( 2004/06/14 16:44:20)",
				Counts:      []TypeCount{{Type: 33, Informed: 1, Accepted: 1}}}
			if !equalUploadStatus(*st, want) {
				t.Errorf("got %+v\nwant %+v", *st, want)
			}
		},
		"upload_RECEPCIONDTE_status0.xml": func(t *testing.T, b []byte) {
			rc, e := parseReceipt(200, "text/xml", b)
			if e != nil {
				t.Fatalf("parseReceipt: %v", e)
			}
			want := Receipt{TrackID: "39", RutSender: "1-9", RutCompany: "3-5", File: "EnvioEjemplo.xml", Timestamp: "2002-11-25 18:51:44"}
			if *rc != want {
				t.Errorf("got %+v, want %+v", *rc, want)
			}
		},
		"upload_RECEPCIONDTE_status7.xml": func(t *testing.T, b []byte) {
			_, e := parseReceipt(200, "text/xml", b)
			if e == nil {
				t.Fatal("STATUS 7 parsed as success")
			}
			if e.Code != "7" || e.Transient || e.TokenRejected {
				t.Errorf("got code %q transient %v token %v, want permanent 7", e.Code, e.Transient, e.TokenRejected)
			}
			wantDetail := []string{
				`LSX-00265: attribute "version" value "3.2" is wrong (must be ".2")`,
				`LSX-00213: only 0 occurrences of particle "sequence", minimum is 1`,
			}
			if !slices.Equal(e.Detail, wantDetail) {
				t.Errorf("detail = %q, want %q", e.Detail, wantDetail)
			}
			if !errs.IsPermanent(e.wrap()) {
				t.Error("wrapped STATUS 7 is not errs.Permanent")
			}
		},
	}
	for _, en := range entries {
		name := en.Name()
		t.Run(name, func(t *testing.T) {
			check, ok := checks[name]
			if !ok {
				t.Fatalf("no expectation for sample %s: add one", name)
			}
			b, err := os.ReadFile(filepath.Join(samplesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			check(t, b)
		})
	}
	for name := range checks {
		if _, err := os.Stat(filepath.Join(samplesDir, name)); err != nil {
			t.Errorf("expected sample %s: %v", name, err)
		}
	}
}

func equalUploadStatus(a, b UploadStatus) bool {
	return a.TrackID == b.TrackID && a.Result == b.Result && a.Estado == b.Estado && a.Glosa == b.Glosa &&
		a.NumAtencion == b.NumAtencion && a.ErrCode == b.ErrCode && slices.Equal(a.Counts, b.Counts)
}

package sii

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/testenv"
)

func addSamples(f *testing.F) {
	for _, e := range testenv.ReadDir(f, samplesDir) {
		b, err := os.ReadFile(filepath.Join(samplesDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(axis("getEstUp", resp(hdrUp("EPR", "Envio Procesado"), group("33", "1", "1", "0", "0"))))
	f.Add([]byte("<html><body>503</body></html>"))
	f.Add([]byte(""))
}

// FuzzReadSOAPAnswer: any bytes give a return text or an *Error, never a
// panic, and an error always says whether to retry.
func FuzzReadSOAPAnswer(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ret, e := readSOAPAnswer(OpGetEstUp, 200, "text/xml", b)
		if e != nil {
			if e.Code == "" || e.Op != OpGetEstUp {
				t.Fatalf("error without code or op: %#v", e)
			}
			return
		}
		if st, e := parseEstUp(ret); e == nil {
			if st.Estado == "" {
				t.Fatalf("status without ESTADO: %+v", st)
			}
			if st.Estado == "EPR" && len(st.Counts) == 0 {
				t.Fatalf("EPR without counts accepted: %+v", st)
			}
			switch st.Result {
			case Pending, Accepted, Objected, Rejected:
			default:
				t.Fatalf("result %q", st.Result)
			}
		}
		_, _ = parseSeed(ret)
		_, _ = parseToken(ret)
		_, _ = parseEstDte(ret)
	})
}

// FuzzParseRespuesta: the inner answer parser on arbitrary text.
func FuzzParseRespuesta(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		if st, e := parseEstDte(s); e == nil && st.Estado == "" {
			t.Fatalf("document status without ESTADO: %+v", st)
		}
		if seed, e := parseSeed(s); e == nil && (seed == "" || strings.Trim(seed, "0123456789") != "") {
			t.Fatalf("seed %q accepted", seed)
		}
		if tok, e := parseToken(s); e == nil && tok == "" {
			t.Fatal("empty token accepted")
		}
	})
}

// FuzzParseReceipt: DTEUpload's answer parser never reads a missing or
// broken STATUS as success.
func FuzzParseReceipt(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, e := parseReceipt(200, "text/xml", b)
		if e != nil {
			return
		}
		if rc.TrackID == "" || strings.Trim(rc.TrackID, "0123456789") != "" {
			t.Fatalf("success with TrackID %q", rc.TrackID)
		}
		if !strings.Contains(string(toUTF8(b)), "STATUS") {
			t.Fatalf("success without STATUS in %q", b)
		}
	})
}

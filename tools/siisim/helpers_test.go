package siisim

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/testenv"
)

// Fixtures, from this package's directory.
const (
	samplesDir = "../../testdata/sii"
	siiCAFKeys = samplesDir + "/sii-caf-keys"
	testP12    = samplesDir + "/certs/ks.p12"
)

// requireTool fails the test under make test and CI, and skips it
// otherwise, when an external program is missing.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		testenv.Unavailable(t, "%s is not installed: %v", name, err)
	}
}

// sampleCert is the SII's published test certificate (RUT 11111111-1,
// expired in 2020).
func sampleCert(t testing.TB) *certs.Certificate {
	t.Helper()
	b, err := os.ReadFile(testP12)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.LoadPKCS12(b, "11111111")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jsonInspector verifies seeds for real but reads "envelopes" written as
// JSON Envio values, so that the protocol and the SII's rules can be
// tested without building signed documents. The SetDTE signer is the
// sample certificate unless the JSON says "unsigned".
type jsonInspector struct{ signer *x509.Certificate }

type jsonEnvio struct {
	Envio
	Unsigned bool
}

func (ji jsonInspector) VerifySeed(doc []byte) (*x509.Certificate, error) {
	return VerifySeedSignature(doc)
}

func (ji jsonInspector) InspectEnvio(b []byte) (*Envio, error) {
	var e jsonEnvio
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if !e.Unsigned {
		e.SetSigner = ji.signer
	}
	return &e.Envio, nil
}

// fakeEnvio is a correct envelope of one accepted-looking document per
// folio given, issued by 76086428-5 and sent by 11111111-1.
func fakeEnvio(typ int, folios ...int64) jsonEnvio {
	e := jsonEnvio{Envio: Envio{RutEmisor: "76086428-5", RutEnvia: "11111111-1", RutReceptor: "60803000-K",
		SubTotals: map[int]int{typ: len(folios)}, Schema: Pass(), Structure: Pass(), SetSignature: Pass()}}
	for _, f := range folios {
		e.Documents = append(e.Documents, Document{Type: typ, Folio: f, Issuer: "76086428-5", Receiver: "96790240-3",
			IssueDate: "2025-03-07", Total: 119000, Signature: Pass(), TED: Pass(), CAF: Pass(), Dates: Pass()})
	}
	return e
}

func (e jsonEnvio) bytes(t testing.TB) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var company = rut.MustParse("76086428-5")

// harness is a simulator over real HTTP with a client pointed at it.
type harness struct {
	sim    *Server
	url    string
	client *sii.Client
	cred   *sii.CertificateCredential
}

func newHarness(t testing.TB, cfg Config, opts ...sii.Option) *harness {
	t.Helper()
	cert := sampleCert(t)
	if cfg.Inspector == nil {
		cfg.Inspector = jsonInspector{signer: cert.Cert}
	}
	cfg.AcceptExpiredCertificates = true
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { sim.Close(); srv.Close() })
	c, err := sii.NewClient(sii.Environment(srv.URL), append([]sii.Option{sii.WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := sii.NewCertificateCredential(cert)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{sim: sim, url: srv.URL, client: c, cred: cred}
}

func (h *harness) upload(t testing.TB, xml []byte) (*sii.Receipt, error) {
	t.Helper()
	return h.client.Upload(context.Background(), h.cred, sii.Envelope{Company: company, Filename: "envio.xml", XML: xml})
}

// waitFinal polls getEstUp until a final result (bounded).
func (h *harness) waitFinal(t testing.TB, trackID string) (*sii.UploadStatus, []string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st, err := h.client.GetUploadStatus(context.Background(), h.cred, company, trackID)
		if err != nil {
			t.Fatalf("getEstUp %s: %v", trackID, err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != st.Estado {
			seen = append(seen, st.Estado)
		}
		if st.Result.Final() {
			return st, seen
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("track %s not final after 10 s; states %v", trackID, seen)
	return nil, nil
}

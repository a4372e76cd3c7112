package siisim

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/xmlsig"
	"github.com/dtecl/pipeline/tools/xsd"
)

// envioFixture is the SII's official example EnvioDTE (factura 33 folio 60
// of 97975000-5, a real certification CAF verified by the SII's IDK-100
// key), sent by the holder of the SII's test certificate: RutEnvia is set
// to 11111111-1 and both signatures are made again with the project's
// signer (the DTE standalone with only the SiiDte namespace, the SetDTE in
// place), as the project does for its own documents.
type envioFixture struct {
	t      testing.TB
	doc    *etree.Document
	signer *xmlsig.Signer
}

var sampleIssuer = rut.MustParse("97975000-5")

func newEnvioFixture(t testing.TB) *envioFixture {
	t.Helper()
	b, err := os.ReadFile(officialSample)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xmlsig.ParseDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := xmlsig.NewSigner(sampleCert(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &envioFixture{t: t, doc: doc, signer: signer}
	f.find("SetDTE/Caratula/RutEnvia").SetText("11111111-1")
	// The test certificate was valid from 2018 to 2020: the signing times
	// say when it signed.
	f.find("SetDTE/DTE/Documento/TmstFirma").SetText("2019-06-03T10:00:00")
	f.find("SetDTE/Caratula/TmstFirmaEnv").SetText("2019-06-03T10:00:05")
	f.resignDTE()
	f.resignSet()
	return f
}

func (f *envioFixture) find(path string) *etree.Element {
	f.t.Helper()
	el := f.doc.Root().FindElement(path)
	if el == nil {
		f.t.Fatalf("no %s in the fixture", path)
	}
	return el
}

// resignDTE signs the (first) DTE again: taken out standalone with only
// the SiiDte namespace, signed there and put back byte for byte.
func (f *envioFixture) resignDTE() {
	f.t.Helper()
	old := f.find("SetDTE/DTE")
	cp := old.Copy()
	if s := signatureChild(cp); s != nil {
		cp.RemoveChild(s)
	}
	standalone := etree.NewDocument()
	standalone.SetRoot(cp)
	cp.CreateAttr("xmlns", siiDteNS)
	if _, err := f.signer.SignElement(cp.SelectElement("Documento")); err != nil {
		f.t.Fatal(err)
	}
	parent := old.Parent()
	i := old.Index()
	parent.RemoveChildAt(i)
	parent.InsertChildAt(i, cp)
}

// resignSet signs the SetDTE again in place.
func (f *envioFixture) resignSet() {
	f.t.Helper()
	root := f.doc.Root()
	if s := signatureChild(root); s != nil {
		root.RemoveChild(s)
	}
	if _, err := f.signer.SignElement(root.SelectElement("SetDTE")); err != nil {
		f.t.Fatal(err)
	}
}

// bytes is the envelope as uploaded: ISO-8859-1 with its declaration.
func (f *envioFixture) bytes() []byte {
	f.t.Helper()
	b, err := latin1.EncodeBytes(xmlsig.Serialize(f.doc.Root()))
	if err != nil {
		f.t.Fatal(err)
	}
	return append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"), b...)
}

// realHarness is a simulator with the project's inspector and the
// official schemas.
func realHarness(t testing.TB, keys *caf.Keys) *harness {
	t.Helper()
	return newHarness(t, Config{Inspector: NewProjectInspector(keys, schemas(t))})
}

// schemas are the SII's schemas compiled once for the package's tests.
var schemasOnce = sync.OnceValues(func() (*xsd.SII, error) { return Schemas("") })

func schemas(t testing.TB) *xsd.SII {
	t.Helper()
	s, err := schemasOnce()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signatureChild is el's XMLDSig Signature child, if any.
func signatureChild(el *etree.Element) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsig.Namespace {
			return c
		}
	}
	return nil
}

func (h *harness) uploadAs(t testing.TB, xml []byte) (*sii.Receipt, error) {
	t.Helper()
	return h.client.Upload(context.Background(), h.cred, sii.Envelope{Company: sampleIssuer, Filename: "envio.xml", XML: xml})
}

func TestRealEnvioAccepted(t *testing.T) {
	h := realHarness(t, siiKeys(t))
	f := newEnvioFixture(t)
	rc, err := h.uploadAs(t, f.bytes())
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.client.GetUploadStatus(context.Background(), h.cred, sampleIssuer, rc.TrackID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := h.sim.Upload(rc.TrackID)
	if st.Result != sii.Accepted || st.Estado != "EPR" {
		t.Fatalf("status %+v; documents %+v", st, got.Documents)
	}
	ds, err := h.client.GetDocumentStatus(context.Background(), h.cred, sii.DocumentQuery{
		Issuer: sampleIssuer, Receiver: rut.MustParse("77777777-7"), Type: 33, Folio: 60, IssueDate: "2003-10-13", Total: 119000})
	if err != nil || ds.Estado != "DOK" {
		t.Fatalf("QueryEstDte: %+v %v", ds, err)
	}
}

// TestRealEnvioRejections: each way an envelope can be wrong gets the SII's
// code: upload STATUS for what DTEUpload checks, envelope state for the
// Carátula, per-document RCH for signatures, TEDs and CAFs.
func TestRealEnvioRejections(t *testing.T) {
	type want struct {
		status string // upload refused at once
		final  string // else the upload's final ESTADO
		verd   string // and the document's verdict
		detail string // substring of the detail or reason
	}
	tests := map[string]struct {
		mutate func(f *envioFixture)
		keys   func(t testing.TB) *caf.Keys
		want   want
	}{
		"broken DTE signature": {mutate: func(f *envioFixture) {
			f.find("SetDTE/DTE/Documento/Encabezado/Receptor/GiroRecep").SetText("COMPUTACIOM")
			f.resignSet()
		}, want: want{final: "EPR", verd: DocRejected, detail: "digest-mismatch"}},
		"broken SetDTE signature": {mutate: func(f *envioFixture) {
			f.find("SetDTE/Caratula/TmstFirmaEnv").SetText("2003-10-13T09:33:23")
		}, want: want{status: "8", detail: "digest-mismatch"}},
		"TED that does not match the document": {mutate: func(f *envioFixture) {
			f.find("SetDTE/DTE/Documento/Encabezado/Totales/MntTotal").SetText("119001")
			f.resignDTE()
			f.resignSet()
		}, want: want{final: "EPR", verd: DocRejected, detail: "MNT \"119000\", the document \"119001\""}},
		"TED whose stamp was altered": {mutate: func(f *envioFixture) {
			f.find("SetDTE/DTE/Documento/TED/DD/IT1").SetText("Parlantes Multimedia 180W")
			f.resignDTE()
			f.resignSet()
		}, want: want{final: "EPR", verd: DocRejected, detail: "FRMT"}},
		"CAF not signed by the SII key": {keys: otherSIIKeys, want: want{final: "EPR", verd: DocRejected, detail: "FRMA"}},
		"schema violation": {mutate: func(f *envioFixture) {
			f.find("SetDTE/Caratula/NroResol").SetText("cero")
			f.resignSet()
		}, want: want{status: "7", detail: "NroResol"}},
		"Caratula count that does not match": {mutate: func(f *envioFixture) {
			f.find("SetDTE/Caratula/SubTotDTE/NroDTE").SetText("2")
			f.resignSet()
		}, want: want{final: "RCT", detail: "NroDTE 2"}},
		"RutEnvia of another person": {mutate: func(f *envioFixture) {
			f.find("SetDTE/Caratula/RutEnvia").SetText("7880442-4")
			f.resignSet()
		}, want: want{final: "RCT", detail: "RutEnvia"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			keys := siiKeys
			if tt.keys != nil {
				keys = tt.keys
			}
			h := realHarness(t, keys(t))
			f := newEnvioFixture(t)
			if tt.mutate != nil {
				tt.mutate(f)
			}
			rc, err := h.uploadAs(t, f.bytes())
			if tt.want.status != "" {
				e, ok := sii.AsError(err)
				if !ok || e.Code != tt.want.status || !errs.IsPermanent(err) {
					t.Fatalf("got %v, want permanent STATUS %s", err, tt.want.status)
				}
				if !strings.Contains(strings.Join(e.Detail, " "), tt.want.detail) {
					t.Errorf("detail %q lacks %q", e.Detail, tt.want.detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st, err := h.client.GetUploadStatus(context.Background(), h.cred, sampleIssuer, rc.TrackID)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := h.sim.Upload(rc.TrackID)
			if st.Estado != tt.want.final || st.Result != sii.Rejected {
				t.Fatalf("final %s/%s, want %s rejected; reason %q documents %+v", st.Estado, st.Result, tt.want.final, got.Reason, got.Documents)
			}
			why := got.Reason
			if tt.want.verd != "" {
				if len(got.Documents) != 1 || got.Documents[0].Verdict != tt.want.verd {
					t.Fatalf("documents %+v, want %s", got.Documents, tt.want.verd)
				}
				why = got.Documents[0].Reason
				if st.Counts[0].Rejected != 1 {
					t.Errorf("counts %+v", st.Counts)
				}
			}
			if !strings.Contains(why, tt.want.detail) {
				t.Errorf("reason %q lacks %q", why, tt.want.detail)
			}
		})
	}
}

// otherSIIKeys is a key set in which IDK 100 is some other key, so that
// real CAFs do not verify.
func otherSIIKeys(t testing.TB) *caf.Keys {
	t.Helper()
	k, err := caf.LoadKeys(siiCAFKeys)
	if err != nil {
		t.Fatal(err)
	}
	prod, ok := k.Get(300)
	if !ok {
		t.Fatal("no IDK 300 key")
	}
	return caf.NewKeys(map[int64]*rsa.PublicKey{100: prod})
}

// TestTokenRefusedOnUpload: an unknown and an expired token get STATUS 5,
// sent raw (the client would renew them by itself).
func TestTokenRefusedOnUpload(t *testing.T) {
	h := realHarness(t, siiKeys(t))
	body := newEnvioFixture(t).bytes()
	tok, err := h.client.Token(context.Background(), h.cred)
	if err != nil {
		t.Fatal(err)
	}
	if st := rawUpload(t, h.url, tok, body); st != "0" {
		t.Fatalf("valid token: STATUS %s", st)
	}
	if st := rawUpload(t, h.url, "NOSUCHTOKEN12", body); st != "5" {
		t.Errorf("unknown token: STATUS %s, want 5", st)
	}
	h.sim.ExpireTokens()
	if st := rawUpload(t, h.url, tok, body); st != "5" {
		t.Errorf("expired token: STATUS %s, want 5", st)
	}
	if st := rawUpload(t, h.url, "", body); st != "5" {
		t.Errorf("no token: STATUS %s, want 5", st)
	}
}

func rawUpload(t *testing.T, url, token string, file []byte) string {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, kv := range [][2]string{{"rutSender", "11111111"}, {"dvSender", "1"}, {"rutCompany", "97975000"}, {"dvCompany", "5"}} {
		w.WriteField(kv[0], kv[1])
	}
	fw, _ := w.CreateFormFile("archivo", "envio.xml")
	fw.Write(file)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, url+PathUpload, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("User-Agent", "Mozilla/4.0 (compatible; PROG 1.0; test)")
	if token != "" {
		req.Header.Set("Cookie", "TOKEN="+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	_, rest, _ := strings.Cut(string(out), "<STATUS>")
	status, _, _ := strings.Cut(rest, "</STATUS>")
	if status == "" {
		t.Fatalf("no STATUS in %s", out)
	}
	return status
}

// TestEndToEndRealEnvio is Must-show 1 with a real envelope: seed → token →
// upload → status until accepted, over HTTP, with processing taking time.
func TestEndToEndRealEnvio(t *testing.T) {
	h := newHarness(t, Config{Inspector: NewProjectInspector(siiKeys(t), schemas(t)), Step: 20 * time.Millisecond})
	rc, err := h.uploadAs(t, newEnvioFixture(t).bytes())
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for i := 0; i < 500; i++ {
		st, err := h.client.GetUploadStatus(context.Background(), h.cred, sampleIssuer, rc.TrackID)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != st.Estado {
			seen = append(seen, st.Estado)
		}
		if st.Result.Final() {
			if st.Result != sii.Accepted {
				t.Fatalf("final %+v", st)
			}
			t.Logf("states seen: %s", strings.Join(seen, " → "))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal(fmt.Sprintf("not final; states %v", seen))
}

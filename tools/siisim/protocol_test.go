package siisim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
)

func TestSeedTokenUploadStatus(t *testing.T) {
	h := newHarness(t, Config{Step: 10 * time.Millisecond})
	rc, err := h.upload(t, fakeEnvio(33, 12).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if rc.RutSender != "11111111-1" || rc.RutCompany != "76086428-5" || rc.File != "envio.xml" {
		t.Errorf("receipt %+v", rc)
	}
	st, seen := h.waitFinal(t, rc.TrackID)
	if st.Result != sii.Accepted || st.Estado != "EPR" {
		t.Fatalf("final %+v", st)
	}
	if want := []sii.TypeCount{{Type: 33, Informed: 1, Accepted: 1}}; !slices.Equal(st.Counts, want) {
		t.Errorf("counts %+v, want %+v", st.Counts, want)
	}
	// The states come in the SII's order (polling may skip some).
	order := []string{"REC", "SOK", "CRT", "FOK", "PRD", "EPR"}
	last := -1
	for _, s := range seen {
		i := slices.Index(order, s)
		if i <= last {
			t.Fatalf("states %v out of order", seen)
		}
		last = i
	}
	ds, err := h.client.GetDocumentStatus(context.Background(), h.cred, sii.DocumentQuery{
		Issuer: company, Receiver: rut.MustParse("96790240-3"), Type: 33, Folio: 12, IssueDate: "2025-03-07", Total: 119000})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Estado != "DOK" || ds.Result != sii.Accepted {
		t.Errorf("document %+v", ds)
	}
	got, ok := h.sim.Upload(rc.TrackID)
	if !ok || len(got.Documents) != 1 || got.Documents[0].DTEKey != "76086428-5-33-12" || got.Documents[0].Verdict != DocAccepted {
		t.Errorf("recorded %+v", got)
	}
	if s := h.sim.Stats(); s[OpGetSeed] != 1 || s[OpGetToken] != 1 || s[OpUpload] != 1 {
		t.Errorf("stats %v: one token should serve every call", s)
	}
}

func TestZeroStepSettlesAtOnce(t *testing.T) {
	h := newHarness(t, Config{})
	rc, err := h.upload(t, fakeEnvio(33, 1).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.client.GetUploadStatus(context.Background(), h.cred, company, rc.TrackID)
	if err != nil || st.Estado != "EPR" {
		t.Fatalf("first poll %+v %v, want EPR at once", st, err)
	}
}

func TestTokenSingleFlight100(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{Latency: Duration(30 * time.Millisecond), Ops: []string{OpGetToken}}})
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			_, err := h.client.Token(context.Background(), h.cred)
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := h.sim.Stats(); s[OpGetSeed] != 1 || s[OpGetToken] != 1 {
		t.Errorf("100 goroutines made %d getSeed and %d getToken round trips, want 1 and 1", s[OpGetSeed], s[OpGetToken])
	}
}

func TestExpiredTokenRenewedOnce(t *testing.T) {
	h := newHarness(t, Config{})
	if _, err := h.upload(t, fakeEnvio(33, 1).bytes(t)); err != nil {
		t.Fatal(err)
	}
	h.sim.ExpireTokens()
	rc, err := h.upload(t, fakeEnvio(33, 2).bytes(t))
	if err != nil {
		t.Fatalf("upload after expiry: %v", err)
	}
	h.sim.ExpireTokens()
	if _, err := h.client.GetUploadStatus(context.Background(), h.cred, company, rc.TrackID); err != nil {
		t.Fatalf("getEstUp after expiry: %v", err)
	}
	if s := h.sim.Stats(); s[OpGetToken] != 3 || s[OpUpload] != 3 || s[OpGetEstUp] != 2 {
		t.Errorf("stats %v: want one renewal per expiry and one retry per refused call", s)
	}
	recs := h.sim.Received()
	if len(recs) != 3 || recs[1].Status != statusNotAuth {
		t.Errorf("the refused upload should be recorded with STATUS 5: %+v", recs)
	}
}

func TestTokenLifetime(t *testing.T) {
	now := time.Date(2025, 3, 7, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, Config{TokenTTL: time.Minute, Now: clock})
	tok, err := h.client.Token(context.Background(), h.cred)
	if err != nil {
		t.Fatal(err)
	}
	if owner, bad := h.sim.tokenOwner(tok); bad != "" || owner.String() != "11111111-1" {
		t.Fatalf("fresh token: %s %s", owner, bad)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if _, bad := h.sim.tokenOwner(tok); bad != estTokenDead {
		t.Errorf("token after its lifetime: %q, want %s", bad, estTokenDead)
	}
	if _, bad := h.sim.tokenOwner("NOPE"); bad != estTokenNoExi {
		t.Errorf("unknown token: %q, want %s", bad, estTokenNoExi)
	}
}

func TestFaultsAreTransientThenSucceed(t *testing.T) {
	tests := map[string]struct {
		faults Faults
		code   string
	}{
		"5xx":           {Faults{Fail5xx: 1, Ops: []string{OpUpload}}, sii.CodeHTTP},
		"HTML":          {Faults{HTML: 1, Ops: []string{OpUpload}}, sii.CodeHTML},
		"timeout":       {Faults{Hang: 1, Ops: []string{OpUpload}}, sii.CodeTimeout},
		"seed 5xx":      {Faults{Fail5xx: 1, Ops: []string{OpGetSeed}}, sii.CodeHTTP},
		"getEstUp HTML": {Faults{HTML: 1, Ops: []string{OpGetEstUp}}, sii.CodeHTML},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, Config{}, sii.WithUploadTimeout(200*time.Millisecond), sii.WithTimeout(200*time.Millisecond))
			if err := h.sim.SetFaults(tt.faults); err != nil {
				t.Fatal(err)
			}
			call := func(folio int64) error {
				rc, err := h.upload(t, fakeEnvio(33, folio).bytes(t))
				if err != nil {
					return err
				}
				_, err = h.client.GetUploadStatus(context.Background(), h.cred, company, rc.TrackID)
				return err
			}
			err := call(1)
			e, ok := sii.AsError(err)
			if !ok || !e.Transient || errs.IsPermanent(err) || e.Code != tt.code {
				t.Fatalf("got %v, want a transient %s error", err, tt.code)
			}
			if err := call(2); err != nil {
				t.Fatalf("the call after the fault: %v", err)
			}
		})
	}
}

func TestRejectionsKeepTheSIICode(t *testing.T) {
	h := newHarness(t, Config{})
	// Upload-time refusal: permanent with the SII's STATUS.
	bad := fakeEnvio(33, 1)
	bad.SetSignature = Check{Detail: "digest mismatch"}
	_, err := h.upload(t, bad.bytes(t))
	e, ok := sii.AsError(err)
	if !ok || e.Code != "8" || e.Transient || !errs.IsPermanent(err) || len(e.Detail) == 0 {
		t.Fatalf("broken SetDTE signature: %v, want permanent STATUS 8 with detail", err)
	}
	// A document the SII rejects: a final state, not an error.
	if err := h.sim.SetFaults(Faults{Reject: map[string]string{"76086428-5-33-2": "monto no cuadra"}}); err != nil {
		t.Fatal(err)
	}
	rc, err := h.upload(t, fakeEnvio(33, 2).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := h.waitFinal(t, rc.TrackID)
	if st.Result != sii.Rejected || st.Estado != "EPR" || st.Counts[0].Rejected != 1 {
		t.Errorf("rejected document: %+v", st)
	}
	got, _ := h.sim.Upload(rc.TrackID)
	if got.Documents[0].Verdict != DocRejected || got.Documents[0].Reason != "monto no cuadra" {
		t.Errorf("recorded %+v", got.Documents)
	}
}

// TestSIIRules covers the envelope and document rules with JSON envelopes.
func TestSIIRules(t *testing.T) {
	type step struct {
		env    jsonEnvio
		status string // upload STATUS when refused at once
		final  string // getEstUp ESTADO
		result sii.Result
		verd   []string // per-document verdicts
		code   string   // first document's code
	}
	ncRef := func(folio int64, refFolio string) jsonEnvio {
		e := fakeEnvio(61, folio)
		e.Documents[0].References = []Reference{{Type: "33", Folio: refFolio, Code: 1}}
		return e
	}
	mod := func(e jsonEnvio, f func(*jsonEnvio)) jsonEnvio { f(&e); return e }
	tests := map[string][]step{
		"count mismatch is RCT":          {{env: mod(fakeEnvio(33, 1, 2), func(e *jsonEnvio) { e.SubTotals = map[int]int{33: 3} }), final: "RCT", result: sii.Rejected}},
		"missing SubTotDTE is RCT":       {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.SubTotals = map[int]int{34: 1} }), final: "RCT", result: sii.Rejected}},
		"RutEnvia not the sender is RCT": {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.RutEnvia = "22222222-2" }), final: "RCT", result: sii.Rejected}},
		"RutEmisor not the company is RCT": {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) {
			e.RutEmisor = "96790240-3"
			e.Documents[0].Issuer = "96790240-3"
		}), final: "RCT", result: sii.Rejected}},
		"DTE of another issuer is RCT":         {{env: mod(fakeEnvio(33, 1, 2), func(e *jsonEnvio) { e.Documents[1].Issuer = "96790240-3" }), final: "RCT", result: sii.Rejected}},
		"SetDTE signed by someone else is RFR": {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.Unsigned = true }), final: "RFR", result: sii.Rejected}},
		"broken SetDTE signature is STATUS 8":  {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.SetSignature = Check{Detail: "x"} }), status: "8"}},
		"bad DTE signature rejects only that document": {{env: mod(fakeEnvio(33, 1, 2), func(e *jsonEnvio) { e.Documents[0].Signature = Check{Detail: "digest"} }),
			final: "EPR", result: sii.Rejected, verd: []string{DocRejected, DocAccepted}}},
		"TED mismatch is RCH":      {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.Documents[0].TED = Check{Detail: "MNT"} }), final: "EPR", result: sii.Rejected, verd: []string{DocRejected}}},
		"CAF not the SII's is RCH": {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.Documents[0].CAF = Check{Detail: "FRMA"} }), final: "EPR", result: sii.Rejected, verd: []string{DocRejected}}},
		"bad receiver RUT is RCH":  {{env: mod(fakeEnvio(33, 1), func(e *jsonEnvio) { e.Documents[0].Receiver = "96790240-4" }), final: "EPR", result: sii.Rejected, verd: []string{DocRejected}}},
		"repeated document is RPT": {
			{env: fakeEnvio(33, 5), final: "EPR", result: sii.Accepted, verd: []string{DocAccepted}},
			{env: fakeEnvio(33, 5), final: "RPT", result: sii.Rejected, verd: []string{DocRepeated}},
			{env: fakeEnvio(33, 5, 6), final: "EPR", result: sii.Rejected, verd: []string{DocRepeated, DocAccepted}},
		},
		"note before its invoice is REF-3-750": {
			{env: ncRef(1, "7"), final: "EPR", result: sii.Rejected, verd: []string{DocRejected}, code: CodeRefNotAccepted},
			{env: fakeEnvio(33, 7), final: "EPR", result: sii.Accepted, verd: []string{DocAccepted}},
			{env: ncRef(2, "7"), final: "EPR", result: sii.Accepted, verd: []string{DocAccepted}},
		},
		"note referencing SET passes": {{env: mod(fakeEnvio(61, 1), func(e *jsonEnvio) {
			e.Documents[0].References = []Reference{{Type: "SET", Folio: "0"}}
		}), final: "EPR", result: sii.Accepted, verd: []string{DocAccepted}}},
		"objection": {{env: fakeEnvio(34, 9), final: "EPR", result: sii.Objected, verd: []string{DocObjected}}},
	}
	for name, steps := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, Config{Faults: Faults{Object: map[string]string{"76086428-5-34-9": "giro receptor"}}})
			for i, s := range steps {
				rc, err := h.upload(t, s.env.bytes(t))
				if s.status != "" {
					e, ok := sii.AsError(err)
					if !ok || e.Code != s.status || !errs.IsPermanent(err) {
						t.Fatalf("step %d: %v, want permanent STATUS %s", i, err, s.status)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				st, _ := h.waitFinal(t, rc.TrackID)
				if st.Estado != s.final || st.Result != s.result {
					t.Fatalf("step %d: %s/%s, want %s/%s", i, st.Estado, st.Result, s.final, s.result)
				}
				got, _ := h.sim.Upload(rc.TrackID)
				var verd []string
				for _, d := range got.Documents {
					verd = append(verd, d.Verdict)
				}
				if !slices.Equal(verd, s.verd) {
					t.Fatalf("step %d: verdicts %v, want %v (%+v)", i, verd, s.verd, got.Documents)
				}
				if s.code != "" && got.Documents[0].Code != s.code {
					t.Fatalf("step %d: code %q, want %q", i, got.Documents[0].Code, s.code)
				}
				if (s.final == "RCT" || s.final == "RFR") && got.Reason == "" {
					t.Errorf("step %d: envelope rejection without a reason", i)
				}
			}
		})
	}
}

func TestNoteBeforeInvoiceProcessed(t *testing.T) {
	// With processing taking time, a note uploaded right after its invoice
	// races ahead of the invoice's acceptance and is rejected.
	h := newHarness(t, Config{Step: 50 * time.Millisecond})
	inv, err := h.upload(t, fakeEnvio(33, 7).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	nc := fakeEnvio(61, 1)
	nc.Documents[0].References = []Reference{{Type: "33", Folio: "7", Code: 3}}
	early, err := h.upload(t, nc.bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := h.waitFinal(t, early.TrackID); st.Result != sii.Rejected {
		t.Fatalf("early note: %+v", st)
	}
	h.waitFinal(t, inv.TrackID)
	nc.Documents[0].Folio = 2
	late, err := h.upload(t, nc.bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := h.waitFinal(t, late.TrackID); st.Result != sii.Accepted {
		t.Fatalf("note after acceptance: %+v", st)
	}
	// The invoice now shows the note that modifies its amounts.
	ds, err := h.client.GetDocumentStatus(context.Background(), h.cred, sii.DocumentQuery{
		Issuer: company, Receiver: rut.MustParse("96790240-3"), Type: 33, Folio: 7, IssueDate: "2025-03-07", Total: 119000})
	if err != nil || ds.Estado != "MMC" || ds.Result != sii.Accepted {
		t.Fatalf("invoice after the note: %+v %v", ds, err)
	}
}

func TestQueryEstDte(t *testing.T) {
	h := newHarness(t, Config{})
	if _, err := h.upload(t, fakeEnvio(33, 12).bytes(t)); err != nil {
		t.Fatal(err)
	}
	base := sii.DocumentQuery{Issuer: company, Receiver: rut.MustParse("96790240-3"), Type: 33, Folio: 12, IssueDate: "2025-03-07", Total: 119000}
	tests := map[string]struct {
		mod      func(*sii.DocumentQuery)
		estado   string
		result   sii.Result
		received bool
	}{
		"match":          {func(*sii.DocumentQuery) {}, "DOK", sii.Accepted, true},
		"other amount":   {func(q *sii.DocumentQuery) { q.Total = 1 }, "DNK", sii.Rejected, true},
		"other date":     {func(q *sii.DocumentQuery) { q.IssueDate = "2025-03-08" }, "DNK", sii.Rejected, true},
		"other receiver": {func(q *sii.DocumentQuery) { q.Receiver = rut.MustParse("11111111-1") }, "DNK", sii.Rejected, true},
		"unknown folio":  {func(q *sii.DocumentQuery) { q.Folio = 13 }, "FAU", sii.Rejected, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			q := base
			tt.mod(&q)
			ds, err := h.client.GetDocumentStatus(context.Background(), h.cred, q)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Estado != tt.estado || ds.Result != tt.result || ds.Received != tt.received || ds.Glosa == "" {
				t.Errorf("got %+v, want %s %s received=%v", ds, tt.estado, tt.result, tt.received)
			}
		})
	}
}

func TestUploadRefusals(t *testing.T) {
	tests := map[string]struct {
		cfg    Config
		env    sii.Envelope
		status string
	}{
		"sender is not the token's owner": {Config{}, sii.Envelope{Company: company, Sender: rut.MustParse("22222222-2"), XML: fakeEnvio(33, 1).bytes(t)}, "1"},
		"sender not allowed for company":  {Config{Senders: map[string][]string{"76086428-5": {"22222222-2"}}}, sii.Envelope{Company: company, XML: fakeEnvio(33, 1).bytes(t)}, "1"},
		"company not authorised":          {Config{Companies: []string{"96790240-3"}}, sii.Envelope{Company: company, XML: fakeEnvio(33, 1).bytes(t)}, "6"},
		"file too large":                  {Config{MaxFileSize: 10}, sii.Envelope{Company: company, XML: fakeEnvio(33, 1).bytes(t)}, "2"},
		"unreadable envelope":             {Config{}, sii.Envelope{Company: company, XML: []byte("not json")}, "7"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			_, err := h.client.Upload(context.Background(), h.cred, tt.env)
			e, ok := sii.AsError(err)
			if !ok || e.Code != tt.status || !errs.IsPermanent(err) {
				t.Fatalf("got %v, want permanent STATUS %s", err, tt.status)
			}
			recs := h.sim.Received()
			if len(recs) != 1 || recs[0].TrackID != "" || len(recs[0].Detail) == 0 {
				t.Errorf("recorded %+v", recs)
			}
		})
	}
}

func TestUploadWithoutProgMarkerGetsHTML(t *testing.T) {
	h := newHarness(t, Config{})
	req, _ := http.NewRequest(http.MethodPost, h.url+PathUpload, strings.NewReader("x"))
	req.Header.Set("User-Agent", "curl/8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "<HTML>") {
		t.Errorf("got %s %q, want an HTML page", resp.Header.Get("Content-Type"), b)
	}
}

// soapPost sends a raw SOAP call and returns the escaped-return text.
func soapPost(t *testing.T, url, op string, params ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:` + op + ` xmlns:m="x">`)
	for i := 0; i+1 < len(params); i += 2 {
		b.WriteString("<" + params[i] + ">" + axisEscape(params[i+1]) + "</" + params[i] + ">")
	}
	b.WriteString(`</m:` + op + `></soapenv:Body></soapenv:Envelope>`)
	resp, err := http.Post(url, "text/xml", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestGetTokenChecks(t *testing.T) {
	h := newHarness(t, Config{SeedTTL: time.Hour})
	signed := func(seed string) string {
		b, err := h.cred.SignSeed(context.Background(), []byte("<getToken><item><Semilla>"+seed+"</Semilla></item></getToken>"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	newSeed := func() string {
		s, err := h.client.GetSeed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	used := newSeed()
	if got := soapPost(t, h.url+PathToken, "getToken", "pszXml", signed(used)); !strings.Contains(got, "&lt;ESTADO&gt;00&lt;/ESTADO&gt;") {
		t.Fatalf("valid signed seed refused: %s", got)
	}
	s1 := newSeed()
	tampered := strings.Replace(signed(s1), "<Semilla>"+s1, "<Semilla>"+newSeed(), 1)
	tests := map[string]struct {
		doc    string
		estado string
	}{
		"seed used twice":            {signed(used), tokRetorno},
		"unknown seed":               {signed("000000000001"), tokRetorno},
		"not XML":                    {"<getToken><item>", tokBadXML},
		"no Semilla":                 {`<getToken><item/></getToken>`, tokNoSeed},
		"no Signature":               {"<getToken><item><Semilla>" + newSeed() + "</Semilla></item></getToken>", tokNoSignature},
		"tampered seed":              {tampered, tokBadSignature},
		"no certificate":             {regexpCut(signed(newSeed()), "<X509Data>", "</X509Data>"), tokNoCertificate},
		"certificate of another key": {replaceBetween(signed(newSeed()), "<X509Certificate>", "</X509Certificate>", otherCertB64(t)), tokKeyMismatch},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := soapPost(t, h.url+PathToken, "getToken", "pszXml", tt.doc)
			if !strings.Contains(got, "&lt;ESTADO&gt;"+tt.estado+"&lt;/ESTADO&gt;") {
				t.Errorf("want ESTADO %s, got %s", tt.estado, got)
			}
		})
	}
}

func replaceBetween(s, from, to, with string) string {
	i, j := strings.Index(s, from), strings.Index(s, to)
	if i < 0 || j < 0 {
		return s
	}
	return s[:i+len(from)] + with + s[j:]
}

// otherCertB64 is a self-signed certificate of a fresh key.
func otherCertB64(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other", SerialNumber: "22222222-2"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func regexpCut(s, from, to string) string {
	i, j := strings.Index(s, from), strings.Index(s, to)
	if i < 0 || j < 0 {
		return s
	}
	return s[:i] + s[j+len(to):]
}

func TestSeedExpires(t *testing.T) {
	now := time.Date(2025, 3, 7, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, Config{Now: clock})
	seed, err := h.client.GetSeed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(DefaultSeedTTL + time.Second)
	mu.Unlock()
	doc, _ := h.cred.SignSeed(context.Background(), []byte("<getToken><item><Semilla>"+seed+"</Semilla></item></getToken>"))
	if got := soapPost(t, h.url+PathToken, "getToken", "pszXml", string(doc)); !strings.Contains(got, "&lt;ESTADO&gt;08&lt;") {
		t.Errorf("expired seed: %s", got)
	}
}

func TestAdminEndpoint(t *testing.T) {
	h := newHarness(t, Config{})
	post := func(body string) (int, string) {
		resp, err := http.Post(h.url+"/admin/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(`{"fail_5xx": 1, "ops": ["upload"], "latency": "1ms", "reject": {"76086428-5-33-3": "forzado"}}`); code != 200 || !strings.Contains(body, `"fail_5xx": 1`) {
		t.Fatalf("POST faults: %d %s", code, body)
	}
	for name, bad := range map[string]string{
		"unknown field": `{"fail": 1}`, "bad op": `{"ops": ["upload2"]}`, "bad dtekey": `{"reject": {"x": "y"}}`,
		"bad duration": `{"latency": "soon"}`, "bad envelope state": `{"reject_envelope": "EPR"}`,
	} {
		if code, body := post(bad); code != 400 || !strings.Contains(body, "error") {
			t.Errorf("%s: %d %s, want 400", name, code, body)
		}
	}
	if _, err := h.upload(t, fakeEnvio(33, 3).bytes(t)); err == nil || !sii.IsTransient(err) {
		t.Fatalf("5xx fault not applied: %v", err)
	}
	rc, err := h.upload(t, fakeEnvio(33, 3).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(h.url + "/admin/received")
	if err != nil {
		t.Fatal(err)
	}
	var recs []Received
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(recs) != 1 || recs[0].TrackID != rc.TrackID || recs[0].Documents[0].Verdict != DocRejected || recs[0].Documents[0].Reason != "forzado" {
		t.Errorf("received %+v", recs)
	}
	// Expire tokens from outside: the client renews by itself.
	if code, _ := post(`{"expire_tokens": true}`); code != 200 {
		t.Fatal("expire_tokens")
	}
	req, _ := http.NewRequest(http.MethodDelete, h.url+"/admin/faults", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE faults: %v %v", resp, err)
	}
	if f := h.sim.Faults(); f.Reject != nil || f.Latency != 0 {
		t.Errorf("faults after DELETE: %+v", f)
	}
	if _, err := h.upload(t, fakeEnvio(33, 4).bytes(t)); err != nil {
		t.Fatalf("after clearing and token expiry: %v", err)
	}
	resp, err = http.Get(h.url + "/admin/stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats map[string]int
	json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats[OpGetToken] != 2 || stats[OpUpload] != 4 {
		t.Errorf("stats %v", stats)
	}
}

func TestWireFormats(t *testing.T) {
	h := newHarness(t, Config{})
	got := soapPost(t, h.url+PathSeed, "getSeed")
	for _, want := range []string{
		`<ns1:getSeedResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"`,
		`<getSeedReturn xsi:type="xsd:string">&lt;?xml version=&quot;1.0&quot; encoding=&quot;UTF-8&quot;?&gt;`,
		`&lt;SII:RESPUESTA xmlns:SII=&quot;http://www.sii.cl/XMLSchema&quot;&gt;&lt;SII:RESP_HDR&gt;&lt;ESTADO&gt;00&lt;/ESTADO&gt;&lt;/SII:RESP_HDR&gt;&lt;SII:RESP_BODY&gt;&lt;SEMILLA&gt;`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("getSeed answer lacks %s:\n%s", want, got)
		}
	}
	if got := soapPost(t, h.url+PathUploadEst, "getEstUp", "RutCompania", "76086428", "DvCompania", "5", "TrackId", "1", "Token", "x"); !strings.Contains(got, "&lt;ESTADO&gt;003&lt;/ESTADO&gt;") {
		t.Errorf("unknown token: %s", got)
	}
	tok, _ := h.client.Token(context.Background(), h.cred)
	if got := soapPost(t, h.url+PathUploadEst, "getEstUp", "RutCompania", "76086428", "DvCompania", "5", "TrackId", "999", "Token", tok); !strings.Contains(got, "&lt;ESTADO&gt;-11&lt;/ESTADO&gt;") {
		t.Errorf("unknown TrackID: %s", got)
	}
	resp, err := http.Post(h.url+PathSeed, "text/xml", bytes.NewReader([]byte("garbage")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("garbage SOAP: HTTP %d, want a 500 fault", resp.StatusCode)
	}
	_, err = h.client.GetUploadStatus(context.Background(), h.cred, company, "999")
	if e, ok := sii.AsError(err); !ok || e.Code != "-11" || !e.Transient {
		t.Errorf("client on -11: %v", err)
	}
	if errors.Is(err, sii.ErrTokenRejected) {
		t.Error("-11 is not a token error")
	}
}

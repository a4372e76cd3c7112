package sii

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/rut"
)

// fakeCred signs nothing: the fake server below does not check signatures
// (the simulator's tests do).
type fakeCred struct{ signed atomic.Int32 }

func (*fakeCred) RUT() rut.RUT { return rut.MustParse("11111111-1") }
func (*fakeCred) ID() string   { return "fake-cert" }
func (c *fakeCred) SignSeed(_ context.Context, doc []byte) ([]byte, error) {
	c.signed.Add(1)
	return []byte(`<?xml version="1.0"?>` + "\n" + string(doc)), nil
}

// fakeSII answers like the SII; handlers can be replaced per test.
type fakeSII struct {
	mu      sync.Mutex
	seeds   int
	tokens  int
	token   string        // current valid token
	refuse  int           // refuse the next n token uses with the op's token code
	delay   time.Duration // before getToken answers
	lastReq map[string]*http.Request
	bodies  map[string]string
	upload  func(w http.ResponseWriter)
}

func newFakeSII(t *testing.T) (*fakeSII, *httptest.Server) {
	f := &fakeSII{lastReq: map[string]*http.Request{}, bodies: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeSII) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.lastReq[r.URL.Path] = r
	f.bodies[r.URL.Path] = string(body)
	f.mu.Unlock()
	switch r.URL.Path {
	case PathSeed:
		f.mu.Lock()
		f.seeds++
		f.mu.Unlock()
		w.Write(axis("getSeed", resp("<ESTADO>00</ESTADO>", "<SEMILLA>000000000042</SEMILLA>")))
	case PathToken:
		f.mu.Lock()
		delay := f.delay
		f.mu.Unlock()
		time.Sleep(delay)
		f.mu.Lock()
		f.tokens++
		f.token = "TOK" + string(rune('A'+f.tokens))
		tok := f.token
		f.mu.Unlock()
		if !strings.Contains(string(body), "&lt;Semilla&gt;000000000042&lt;/Semilla&gt;") {
			w.Write(axis("getToken", resp("<ESTADO>06</ESTADO><GLOSA>no Semilla</GLOSA>", "")))
			return
		}
		w.Write(axis("getToken", resp("<ESTADO>00</ESTADO><GLOSA>Token Creado</GLOSA>", "<TOKEN>"+tok+"</TOKEN>")))
	case PathUpload:
		f.mu.Lock()
		fault := f.upload
		f.mu.Unlock()
		if fault != nil {
			fault(w)
			return
		}
		if !f.tokenOK(r.Header.Get("Cookie")) {
			w.Write([]byte(recepcion("<STATUS>5</STATUS>", "")))
			return
		}
		w.Write([]byte(recepcion("<STATUS>0</STATUS>", "<TRACKID>777</TRACKID>")))
	case PathUploadEst:
		if !f.tokenOK("TOKEN=" + between(string(body), "<Token xsi:type=\"xsd:string\">", "</Token>")) {
			w.Write(axis("getEstUp", resp("<ESTADO>002</ESTADO><GLOSA>Token Inactivo</GLOSA>", "")))
			return
		}
		w.Write(axis("getEstUp", resp(hdrUp("EPR", "Envio Procesado"), group("33", "1", "1", "0", "0"))))
	case PathDocEst:
		w.Write(axis("getEstDte", resp("<ESTADO>DOK</ESTADO><GLOSA_ESTADO>Documento Recibido por el SII</GLOSA_ESTADO><ERR_CODE>0</ERR_CODE>", "")))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeSII) tokenOK(cookie string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse > 0 {
		f.refuse--
		return false
	}
	return cookie == "TOKEN="+f.token
}

func (f *fakeSII) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seeds, f.tokens
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

func newTestClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(Environment(url), append([]Option{WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUploadRequestFormat(t *testing.T) {
	f, srv := newFakeSII(t)
	c := newTestClient(t, srv.URL)
	cred := &fakeCred{}
	rc, err := c.Upload(context.Background(), cred, Envelope{Company: rut.MustParse("76086428-5"), Filename: "envio-1.xml", XML: []byte("<EnvioDTE/>")})
	if err != nil {
		t.Fatal(err)
	}
	if rc.TrackID != "777" {
		t.Errorf("TrackID %q", rc.TrackID)
	}
	r := f.lastReq[PathUpload]
	if ua := r.Header.Get("User-Agent"); !strings.Contains(ua, "PROG 1.0") {
		t.Errorf("User-Agent %q lacks PROG 1.0", ua)
	}
	if ck := r.Header.Get("Cookie"); !strings.HasPrefix(ck, "TOKEN=TOK") {
		t.Errorf("Cookie %q", ck)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q: %v", r.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(strings.NewReader(f.bodies[PathUpload]), params["boundary"])
	var names, values []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		names = append(names, p.FormName())
		values = append(values, string(b))
		if p.FormName() == "archivo" && (p.FileName() != "envio-1.xml" || p.Header.Get("Content-Type") != "text/xml") {
			t.Errorf("archivo part: filename %q content type %q", p.FileName(), p.Header.Get("Content-Type"))
		}
	}
	if got, want := strings.Join(names, ","), "rutSender,dvSender,rutCompany,dvCompany,archivo"; got != want {
		t.Errorf("fields %s, want %s", got, want)
	}
	if got, want := strings.Join(values, ","), "11111111,1,76086428,5,<EnvioDTE/>"; got != want {
		t.Errorf("values %s, want %s", got, want)
	}
}

func TestQueryRequestFormat(t *testing.T) {
	f, srv := newFakeSII(t)
	c := newTestClient(t, srv.URL)
	cred := &fakeCred{}
	st, err := c.GetDocumentStatus(context.Background(), cred, DocumentQuery{
		Issuer: rut.MustParse("76086428-5"), Receiver: rut.MustParse("96790240-3"), Type: 33, Folio: 12, IssueDate: "2025-03-07", Total: 119000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Result != Accepted || st.Estado != "DOK" {
		t.Errorf("status %+v", st)
	}
	body := f.bodies[PathDocEst]
	last := -1
	for _, p := range []string{"RutConsultante>11111111<", "DvConsultante>1<", "RutCompania>76086428<", "DvCompania>5<", "RutReceptor>96790240<", "DvReceptor>3<",
		"TipoDte>33<", "FolioDte>12<", "FechaEmisionDte>07032025<", "MontoDte>119000<", "Token>TOK"} {
		name, value, _ := strings.Cut(p, ">")
		i := strings.Index(body, name+` xsi:type="xsd:string">`+value)
		if i < 0 {
			t.Errorf("parameter %s missing in %s", p, body)
			continue
		}
		if i < last {
			t.Errorf("parameter %s out of the WSDL's order", name)
		}
		last = i
	}
	if f.lastReq[PathDocEst].Header.Get("Soapaction") != `""` {
		t.Errorf("SOAPAction %q", f.lastReq[PathDocEst].Header.Get("Soapaction"))
	}
	if !strings.Contains(body, "<m:getEstDte ") {
		t.Errorf("no getEstDte wrapper: %s", body)
	}
}

func TestQueryValidation(t *testing.T) {
	_, srv := newFakeSII(t)
	c := newTestClient(t, srv.URL)
	good := DocumentQuery{Issuer: rut.MustParse("76086428-5"), Receiver: rut.MustParse("96790240-3"), Type: 33, Folio: 12, IssueDate: "2025-03-07", Total: 1}
	tests := map[string]struct {
		mod   func(*DocumentQuery)
		field string
	}{
		"no issuer": {func(q *DocumentQuery) { q.Issuer = rut.RUT{} }, "Issuer"},
		"bad date":  {func(q *DocumentQuery) { q.IssueDate = "07-03-2025" }, "IssueDate"},
		"no folio":  {func(q *DocumentQuery) { q.Folio = 0 }, "Folio"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			q := good
			tt.mod(&q)
			_, err := c.GetDocumentStatus(context.Background(), &fakeCred{}, q)
			if err == nil || !errs.IsPermanent(err) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %v: want a permanent error naming %s", err, tt.field)
			}
		})
	}
	if _, err := c.GetUploadStatus(context.Background(), &fakeCred{}, rut.MustParse("76086428-5"), "12a"); err == nil || !errs.IsPermanent(err) {
		t.Errorf("bad TrackID: %v", err)
	}
}

func TestTokenSingleFlight(t *testing.T) {
	f, srv := newFakeSII(t)
	f.delay = 50 * time.Millisecond // keep the flight open while the others arrive
	c := newTestClient(t, srv.URL)
	cred := &fakeCred{}
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	toks := make(chan string, 100)
	for range 100 {
		wg.Go(func() {
			tok, err := c.Token(context.Background(), cred)
			errc <- err
			toks <- tok
		})
	}
	wg.Wait()
	close(errc)
	close(toks)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	first := ""
	for tok := range toks {
		if first == "" {
			first = tok
		}
		if tok != first {
			t.Fatalf("different tokens %q and %q", first, tok)
		}
	}
	if s, k := f.counts(); s != 1 || k != 1 {
		t.Errorf("getSeed %d, getToken %d round trips; want 1 and 1", s, k)
	}
}

func TestTokenReauthOnce(t *testing.T) {
	tests := map[string]struct {
		call func(c *Client, cred Credential) error
	}{
		"upload STATUS 5": {func(c *Client, cred Credential) error {
			_, err := c.Upload(context.Background(), cred, Envelope{Company: rut.MustParse("76086428-5"), XML: []byte("<x/>")})
			return err
		}},
		"getEstUp 002": {func(c *Client, cred Credential) error {
			_, err := c.GetUploadStatus(context.Background(), cred, rut.MustParse("76086428-5"), "777")
			return err
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeSII(t)
			c := newTestClient(t, srv.URL)
			cred := &fakeCred{}
			if err := tt.call(c, cred); err != nil { // warms the cache
				t.Fatal(err)
			}
			f.mu.Lock()
			f.refuse = 1
			f.mu.Unlock()
			if err := tt.call(c, cred); err != nil {
				t.Fatalf("after one refusal: %v", err)
			}
			if s, k := f.counts(); s != 2 || k != 2 {
				t.Errorf("round trips %d/%d, want 2/2 (one renewal)", s, k)
			}
			f.mu.Lock()
			f.refuse = 2 // refused even after renewal: report, do not loop
			f.mu.Unlock()
			err := tt.call(c, cred)
			if !errors.Is(err, ErrTokenRejected) || !IsTransient(err) {
				t.Fatalf("twice refused: %v, want transient ErrTokenRejected", err)
			}
			if s, _ := f.counts(); s != 3 {
				t.Errorf("getSeed %d after a double refusal, want 3 (one renewal, no loop)", s)
			}
		})
	}
}

func TestTokenTTL(t *testing.T) {
	f, srv := newFakeSII(t)
	now := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := newTestClient(t, srv.URL, WithTokenTTL(10*time.Minute), WithClock(clock))
	cred := &fakeCred{}
	t1, _ := c.Token(context.Background(), cred)
	mu.Lock()
	now = now.Add(9 * time.Minute)
	mu.Unlock()
	t2, _ := c.Token(context.Background(), cred)
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	t3, _ := c.Token(context.Background(), cred)
	if t1 != t2 || t2 == t3 {
		t.Errorf("tokens %s %s %s: want reuse within the TTL and renewal after", t1, t2, t3)
	}
	if _, k := f.counts(); k != 2 {
		t.Errorf("getToken %d times, want 2", k)
	}
}

func TestTransientFaults(t *testing.T) {
	tests := map[string]func(w http.ResponseWriter){
		"503 HTML": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			w.Write([]byte("<html><body>Servicio no disponible</body></html>"))
		},
		"500 plain": func(w http.ResponseWriter) { w.WriteHeader(500); w.Write([]byte("Error 500")) },
		"hang": func(w http.ResponseWriter) {
			time.Sleep(300 * time.Millisecond)
		},
	}
	for name, fault := range tests {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeSII(t)
			c := newTestClient(t, srv.URL, WithUploadTimeout(100*time.Millisecond))
			f.mu.Lock()
			f.upload = fault
			f.mu.Unlock()
			env := Envelope{Company: rut.MustParse("76086428-5"), XML: []byte("<x/>")}
			_, err := c.Upload(context.Background(), &fakeCred{}, env)
			if err == nil || !IsTransient(err) || errs.IsPermanent(err) {
				t.Fatalf("got %v, want a transient error", err)
			}
			f.mu.Lock()
			f.upload = nil
			f.mu.Unlock()
			if _, err := c.Upload(context.Background(), &fakeCred{}, env); err != nil {
				t.Fatalf("after the fault: %v", err)
			}
		})
	}
}

func TestContextCancelWhileWaitingForToken(t *testing.T) {
	f, srv := newFakeSII(t)
	f.delay = 200 * time.Millisecond
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Token(ctx, &fakeCred{}); err == nil || !IsTransient(err) {
		t.Fatalf("got %v, want transient timeout", err)
	}
	// The flight went on without the impatient caller and filled the cache.
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Token(context.Background(), &fakeCred{}); err != nil {
		t.Fatal(err)
	}
	if _, k := f.counts(); k != 1 {
		t.Errorf("getToken %d times, want 1", k)
	}
}

func TestNewClientOptions(t *testing.T) {
	tests := map[string]struct {
		env  Environment
		opts []Option
		ok   bool
	}{
		"maullin":         {Maullin, nil, true},
		"simulator":       {"http://127.0.0.1:8089", nil, true},
		"no scheme":       {"maullin.sii.cl", nil, false},
		"UA without PROG": {Palena, []Option{WithUserAgent("curl/8")}, false},
		"UA with PROG":    {Palena, []Option{WithUserAgent("Mozilla/5.0 (compatible; PROG 1.0; x)")}, true},
		"zero timeout":    {Palena, []Option{WithTimeout(0)}, false},
		"nil cache":       {Palena, []Option{WithTokenCache(nil)}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewClient(tt.env, tt.opts...)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if got := Maullin.URL(PathUpload); got != "https://maullin.sii.cl/cgi_dte/UPL/DTEUpload" {
		t.Errorf("URL = %s", got)
	}
}

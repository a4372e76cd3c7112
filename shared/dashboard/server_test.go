package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/events"
)

type testServer struct {
	*httptest.Server
	store *Store
	mem   *archivetest.Mem
	srv   *Server
}

// newTestServer serves a dashboard over a projection with a few documents,
// an in-memory archive and a broker that is not there (replays fail at the
// broker, after the checks this test is about).
func newTestServer(t *testing.T, operator, viewer string, httpEvents bool) *testServer {
	t.Helper()
	store := openStore(t)
	apply(t, store, projectionFacts(t)...)
	mem := archivetest.NewMem()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := New(ctx, Config{
		Store: store, Archive: mem, AMQPURL: "amqp://guest:guest@127.0.0.1:1/",
		Broker: NewBrokerWatch("amqp://127.0.0.1:1/", nil, time.Hour, nil, nil), CAFs: NewCAFWatch(mem, time.Hour, nil),
		HTTPEvents: httpEvents, OperatorToken: operator, ViewToken: viewer, PushInterval: 10 * time.Millisecond,
		Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, store: store, mem: mem, srv: srv}
}

// client is a browser-like client: cookies, no redirects followed.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, url string, body io.Reader, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestReadOnlyWithoutTokens(t *testing.T) {
	ts := newTestServer(t, "", "", false)
	c := client(t)
	code, body, _ := do(t, c, "GET", ts.URL+"/", nil, nil)
	if code != 200 || !strings.Contains(body, "Reenvío desactivado") || !strings.Contains(body, `data-role="viewer"`) {
		t.Errorf("GET /: %d, read-only note missing", code)
	}
	if code, _, _ := do(t, c, "GET", ts.URL+"/api/snapshot", nil, nil); code != 200 {
		t.Errorf("snapshot: %d", code)
	}
	code, body, _ = do(t, c, "POST", ts.URL+"/api/replay", strings.NewReader(`{"id":1}`), nil)
	if code != http.StatusForbidden || !strings.Contains(body, "DASHBOARD_TOKEN") {
		t.Errorf("replay without an operator token configured: %d %s", code, body)
	}
}

func TestViewTokenProtects(t *testing.T) {
	ts := newTestServer(t, "op-token", "view-token", false)
	c := client(t)
	if code, _, h := do(t, c, "GET", ts.URL+"/", nil, nil); code != http.StatusSeeOther || h.Get("Location") != "login" {
		t.Errorf("GET / without login: %d → %q, want a redirect to /login", code, h.Get("Location"))
	}
	for _, path := range []string{"/api/snapshot", "/api/stream", "/api/search?q=1", "/api/documents/76086428-5-33-1", "/archive/dte/76086428-5-33-1"} {
		if code, _, _ := do(t, c, "GET", ts.URL+path, nil, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without login: %d, want 401", path, code)
		}
	}
	if code, _, _ := do(t, c, "GET", ts.URL+"/api/snapshot", nil, map[string]string{"Authorization": "Bearer view-token"}); code != 200 {
		t.Errorf("snapshot with the view token: %d", code)
	}
	if code, _, _ := do(t, c, "GET", ts.URL+"/api/snapshot", nil, map[string]string{"Authorization": "Bearer wrong"}); code != 401 {
		t.Errorf("snapshot with a wrong token: %d", code)
	}
	code, body, _ := do(t, c, "POST", ts.URL+"/api/replay", strings.NewReader(`{"id":1}`), map[string]string{"Authorization": "Bearer view-token"})
	if code != http.StatusUnauthorized {
		t.Errorf("replay with the view token: %d %s, want 401", code, body)
	}
	// A wrong login goes back to the form.
	code, _, h := do(t, c, "POST", ts.URL+"/login", strings.NewReader(url.Values{"token": {"nope"}}.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code != http.StatusSeeOther || h.Get("Location") != "login?error=1" {
		t.Errorf("wrong login: %d → %q", code, h.Get("Location"))
	}
}

func TestOperatorLoginAndCSRF(t *testing.T) {
	ts := newTestServer(t, "op-token", "", false)
	c := client(t)
	code, _, h := do(t, c, "POST", ts.URL+"/login", strings.NewReader(url.Values{"token": {"op-token"}}.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code != http.StatusSeeOther || h.Get("Location") != "./" {
		t.Fatalf("login: %d → %q", code, h.Get("Location"))
	}
	if sc := h.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Errorf("session cookie %q: want HttpOnly and SameSite=Strict", sc)
	}
	_, page, _ := do(t, c, "GET", ts.URL+"/", nil, nil)
	if !strings.Contains(page, `data-role="operator"`) {
		t.Fatal("after login the page is not the operator's")
	}
	m := regexp.MustCompile(`const CSRF = "([0-9a-f]+)";`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the page")
	}
	code, body, _ := do(t, c, "POST", ts.URL+"/api/replay", strings.NewReader(`{"id":1}`), nil)
	if code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("replay with the cookie but no CSRF token: %d %s", code, body)
	}
	// With it, the request passes every check and reaches the broker,
	// which is not there in this test.
	code, body, _ = do(t, c, "POST", ts.URL+"/api/replay", strings.NewReader(`{"id":1}`), map[string]string{headerCSRF: m[1]})
	if code != http.StatusBadGateway || !strings.Contains(body, "reenvío") {
		t.Errorf("replay with the CSRF token: %d %s, want 502 from the absent broker", code, body)
	}
	for _, tt := range []struct{ body, want string }{
		{`{"id":999}`, "no hay carta muerta 999"},
		{`{"dtekey":"nope"}`, "dtekey"},
		{`{}`, "indique qué reenviar"},
		{`not json`, "cuerpo"},
	} {
		code, body, _ := do(t, c, "POST", ts.URL+"/api/replay", strings.NewReader(tt.body), map[string]string{headerCSRF: m[1]})
		if code < 400 || code >= 500 || !strings.Contains(body, tt.want) {
			t.Errorf("replay %s: %d %s; want a 4xx naming %q", tt.body, code, body, tt.want)
		}
	}
	// A forged session is nobody.
	forged := &http.Cookie{Name: cookieName, Value: "operator|9999999999|00"}
	req, _ := http.NewRequest("POST", ts.URL+"/api/replay", strings.NewReader(`{"id":1}`))
	req.AddCookie(forged)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged session: %d", resp.StatusCode)
	}
}

func TestSearchDocumentArchive(t *testing.T) {
	ts := newTestServer(t, "", "", false)
	c := client(t)
	ctx := context.Background()
	if _, err := ts.mem.Put(ctx, "dte/76086428-5-33-1.xml", []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><DTE><Folio>1</Folio></DTE>`), archive.PutOptions{ContentType: "application/xml; charset=ISO-8859-1"}); err != nil {
		t.Fatal(err)
	}
	code, body, _ := do(t, c, "GET", ts.URL+"/api/search?q=1", nil, nil)
	if code != 200 || !strings.Contains(body, `"dtekey":"76086428-5-33-1"`) {
		t.Errorf("search by folio: %d %s", code, body)
	}
	if code, body, h := do(t, c, "GET", ts.URL+"/api/search?q=hola", nil, nil); code != 400 || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, "dtekey") {
		t.Errorf("bad search: %d %s", code, body)
	}
	code, body, _ = do(t, c, "GET", ts.URL+"/api/documents/76086428-5-33-1", nil, nil)
	var d DocDetail
	if code != 200 || json.Unmarshal([]byte(body), &d) != nil || d.Status != "accepted" || len(d.History) != 5 {
		t.Errorf("document: %d %s", code, body)
	}
	if code, _, _ := do(t, c, "GET", ts.URL+"/api/documents/76086428-5-33-77", nil, nil); code != 404 {
		t.Errorf("unknown document: %d", code)
	}
	if code, _, _ := do(t, c, "GET", ts.URL+"/api/documents/hola", nil, nil); code != 400 {
		t.Errorf("bad dtekey: %d", code)
	}
	code, body, h := do(t, c, "GET", ts.URL+"/archive/dte/76086428-5-33-1", nil, nil)
	if code != 200 || !strings.Contains(body, "<Folio>1</Folio>") || !strings.Contains(h.Get("Content-Type"), "ISO-8859-1") {
		t.Errorf("signed XML: %d %q %s", code, h.Get("Content-Type"), body)
	}
	if code, body, _ := do(t, c, "GET", ts.URL+"/archive/envio/76086428-5-33-1", nil, nil); code != 404 || !strings.Contains(body, "envio/") {
		t.Errorf("an EnvioDTE the archive does not have: %d %s", code, body)
	}
}

// TestStreamFollowsChanges reads the server-sent events: a snapshot at
// once, and another after a change.
func TestStreamFollowsChanges(t *testing.T) {
	ts := newTestServer(t, "", "", false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	next := func() Snapshot {
		t.Helper()
		var event string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok && event == "snapshot" {
				var s Snapshot
				if err := json.Unmarshal([]byte(v), &s); err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return Snapshot{}
	}
	first := next()
	apply(t, ts.store, lifecycle(t, "76086428-5-33-100", t0.Add(-time.Minute), events.ResultAccepted)...)
	second := next()
	if second.Version <= first.Version || second.Counts["accepted"] != first.Counts["accepted"]+1 {
		t.Errorf("after a change: version %d → %d, accepted %d → %d", first.Version, second.Version, first.Counts["accepted"], second.Counts["accepted"])
	}
}

// TestHTTPEvents posts CloudEvents as a Knative Trigger does (binary mode)
// and as the dead-letter sink gets them.
func TestHTTPEvents(t *testing.T) {
	ts := newTestServer(t, "", "", true)
	c := client(t)
	k := mustKey(t, "76086428-5-52-9")
	e, err := events.New("ev-9", events.TypeSubmitted, "/dte/submit", k, events.Submitted{DTEKey: k.String(), TrackID: "55", EnvioKey: "envio/x.xml"})
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := do(t, c, "POST", ts.URL+"/events", bytes.NewReader(e.Data()), map[string]string{
		"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": e.ID(), "Ce-Type": e.Type(),
		"Ce-Source": e.Source(), "Ce-Time": e.Time().Format(time.RFC3339Nano), "Ce-Dtekey": k.String(),
	})
	if code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	d, err := ts.store.Document(context.Background(), k)
	if err != nil || d.Status != "sent" || d.TrackID != "55" {
		t.Errorf("stored: %+v, %v", d, err)
	}
	if code, _, _ := do(t, c, "POST", ts.URL+"/events", strings.NewReader("junk"), map[string]string{"Content-Type": "text/plain"}); code != http.StatusAccepted {
		t.Errorf("junk: %d (counted and accepted)", code)
	}
	if code, _, _ := do(t, c, "POST", ts.URL+"/events/undelivered", strings.NewReader("x"), nil); code != http.StatusAccepted {
		t.Errorf("undelivered: %d", code)
	}
	p, _ := ts.store.Project(context.Background(), t0, time.Hour)
	if p.Unreadable != 2 {
		t.Errorf("unreadable %d, want 2 (junk and undelivered)", p.Unreadable)
	}
	off := newTestServer(t, "", "", false)
	if code, _, _ := do(t, c, "POST", off.URL+"/events", strings.NewReader("x"), nil); code < 400 {
		t.Errorf("POST /events without HTTP feed: %d", code)
	}
}

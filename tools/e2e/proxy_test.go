package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// holdProxy stands between one function and a server (S3, the SII). It
// forwards every request, keeping the Host header (S3 request signatures
// cover it), and records the status of each answer per method and path.
// Armed, it holds the next matching requests so that a test can crash the
// function at that exact point:
//   - before: the request is held and never forwarded (the write or call
//     never happened);
//   - after: the request is forwarded, and the answer is held and never
//     given (the server did the work; its answer is lost).
//
// Released (disarm), held requests are answered 503.
type holdProxy struct {
	srv *httptest.Server
	rp  *httputil.ReverseProxy

	mu      sync.Mutex
	target  *url.URL
	rule    *holdRule
	answers map[string][]int // "METHOD path" → statuses the server answered
}

type holdRule struct {
	method, path string
	after        bool          // forward first, hold the answer
	held         chan struct{} // closed when the first request is held
	release      chan struct{} // closed by disarm
}

// newHoldProxy starts a proxy; it forwards once setTarget has named the
// server (which may start after the proxy, knowing its URL).
func newHoldProxy(t *testing.T) *holdProxy {
	t.Helper()
	p := &holdProxy{answers: map[string][]int{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			r.SetURL(p.target)
			p.mu.Unlock()
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			p.mu.Lock()
			k := resp.Request.Method + " " + resp.Request.URL.Path
			p.answers[k] = append(p.answers[k], resp.StatusCode)
			p.mu.Unlock()
			return nil
		},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// setTarget names the server requests go to.
func (p *holdProxy) setTarget(t *testing.T, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = u
}

// URL is the proxy's base URL.
func (p *holdProxy) URL() string { return p.srv.URL }

// arm holds the requests to method and path from now on; the channel is
// closed when the first one is held (after its answer came, with after).
func (p *holdProxy) arm(method, path string, after bool) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = &holdRule{method: method, path: path, after: after, held: make(chan struct{}), release: make(chan struct{})}
	return p.rule.held
}

// disarm lets requests through again; those held are answered 503.
func (p *holdProxy) disarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rule != nil {
		close(p.rule.release)
		p.rule = nil
	}
}

// answered lists the statuses the server gave to method and path.
func (p *holdProxy) answered(method, path string) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.answers[method+" "+path]...)
}

func (p *holdProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	rule, target := p.rule, p.target
	p.mu.Unlock()
	if target == nil {
		http.Error(w, "the test proxy has no target yet", http.StatusServiceUnavailable)
		return
	}
	if rule == nil || r.Method != rule.method || r.URL.Path != rule.path {
		p.rp.ServeHTTP(w, r)
		return
	}
	// Read the body whole: the server then notices a client that goes away.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if rule.after {
		p.rp.ServeHTTP(httptest.NewRecorder(), r) // the answer is recorded, not given
	}
	p.mu.Lock()
	select {
	case <-rule.held:
	default:
		close(rule.held)
	}
	p.mu.Unlock()
	select {
	case <-r.Context().Done():
	case <-rule.release:
		http.Error(w, "held by the test", http.StatusServiceUnavailable)
	}
}

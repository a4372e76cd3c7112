package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

// TestS3DownAtStart starts sign and submit while their S3 is down (their
// S3_ENDPOINT resets every connection: their probe at start fails), sends one
// document of each type, and lets S3 come up once the documents have been
// refused: a MinIO bucket with SSE-KMS, whose ETags are not MD5s. With no
// restart, the functions probe again before their next write, find opaque
// ETags, log it, and every document reaches accepted with the usual
// ledger: nothing lost, nothing sent twice.
func TestS3DownAtStart(t *testing.T) {
	t.Parallel()
	var kms archivetest.Target
	for _, target := range archivetest.Targets() {
		if target.Name == "minio-sse-kms" {
			kms = target
		}
	}
	cfg := kms.Bucket(t, testBucket) // the stack stores its CAFs there directly
	late := newLateProxy(t, cfg.Endpoint)
	env := []string{"S3_ENDPOINT=" + late.URL()}
	// Not ready while their S3 is down (/_/ready says so): started anyway.
	s := newStack(t, stackOptions{s3: &kms, functionEnv: map[string][]string{"sign": env, "submit": env}, startUnready: true})
	for _, fn := range []string{"sign", "submit"} {
		if log := s.functionLog(fn); !strings.Contains(log, "could not probe the S3 server's conditional writes at start") {
			t.Fatalf("%s did not start with its S3 down:\n%s", fn, log)
		}
		if code, body := s.ready(fn); code != http.StatusServiceUnavailable || !strings.Contains(body, "archive") {
			t.Errorf("%s with its S3 down: /_/ready %d %q, want 503 naming the archive", fn, code, body)
		}
	}

	docs := s.allDocs()
	for _, d := range docs {
		s.send(d)
	}
	// The documents were refused while S3 was down (sign retries them)...
	waitFor(t, settleTimeout, "sign to refuse a document while S3 is down", func() (bool, string) {
		return strings.Contains(s.functionLog("sign"), `"result":"retry"`), "sign has retried nothing yet"
	})
	// ...then S3 comes up, with no function restarted.
	late.up(t)
	s.waitStatus("accepted", docs...)
	s.checkLedger(docs, func(doc) want { return want{} })

	for _, fn := range []string{"sign", "submit"} {
		log := s.functionLog(fn)
		if !strings.Contains(log, `"md5_etags":false`) || !strings.Contains(log, `"when":"probed again"`) {
			t.Errorf("%s did not log the capabilities it found once S3 was up:\n%s", fn, log)
		}
		waitFor(t, 15*time.Second, fn+" to be ready once S3 is up", func() (bool, string) {
			code, body := s.ready(fn)
			return code == http.StatusOK, body
		})
	}
}

// ready asks a function's /_/ready.
func (s *stack) ready(fn string) (int, string) {
	s.t.Helper()
	url := strings.TrimSuffix(s.MetricsURLs()[fn], "/metrics") + "/_/ready"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// functionLog is a function's log so far.
func (s *stack) functionLog(fn string) string {
	s.t.Helper()
	b, err := os.ReadFile(s.LogFile(fn))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// lateProxy is an S3 endpoint that is down until up, and from then on
// forwards to the real server, keeping the Host header that S3 request
// signatures cover, until down again. Down, it refuses every connection
// (accepted and reset at once) and drops those it had: S3 stopped. Its
// port stays bound throughout, so no other test can take it meanwhile.
type lateProxy struct {
	ln     net.Listener
	target *url.URL
	srv    *http.Server
	isUp   atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

// newLateProxy starts a proxy that is down.
func newLateProxy(t *testing.T, target string) *lateProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lateProxy{ln: ln, target: u, conns: map[net.Conn]bool{}}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(p.target)
		r.Out.Host = r.In.Host
	}}
	p.srv = &http.Server{
		Handler: rp, ReadHeaderTimeout: 5 * time.Second,
		ConnState: func(c net.Conn, s http.ConnState) {
			p.mu.Lock()
			defer p.mu.Unlock()
			switch s {
			case http.StateNew:
				p.conns[c] = true
			case http.StateClosed, http.StateHijacked:
				delete(p.conns, c)
			}
		},
	}
	go func() {
		if err := p.srv.Serve(refusingListener{ln, &p.isUp}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("S3 proxy: %v", err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.srv.Shutdown(ctx)
	})
	return p
}

// URL is the endpoint the functions are given.
func (p *lateProxy) URL() string { return "http://" + p.ln.Addr().String() }

// up forwards from now on.
func (p *lateProxy) up(t *testing.T) {
	t.Helper()
	if p.isUp.Swap(true) {
		t.Fatal("S3 proxy: up while up")
	}
}

// down refuses every connection from now on and drops the open ones.
func (p *lateProxy) down(t *testing.T) {
	t.Helper()
	if !p.isUp.Swap(false) {
		t.Fatal("S3 proxy: down while down")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		reset(c)
	}
}

// refusingListener accepts connections and, while down, resets each at
// once: to its client, like a server that is not there.
type refusingListener struct {
	net.Listener
	isUp *atomic.Bool
}

func (l refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.isUp.Load() {
			return c, err
		}
		reset(c)
	}
}

// reset closes a connection with a TCP reset rather than an orderly close.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

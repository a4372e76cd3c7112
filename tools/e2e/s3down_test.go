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
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/bus"
)

// TestS3DownAtStart starts sign and submit while their S3 is down (nothing
// listens at their S3_ENDPOINT: their probe at start fails), sends one
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
	// The documents were refused while S3 was down (503, delivery retried)...
	waitFor(t, settleTimeout, "sign to refuse a document while S3 is down", func() (bool, string) {
		retried := s.deliveries(func(d delivery) bool { return d.Queue == bus.QueueSign && d.Action == "retry" })
		return len(retried) > 0, "no retried delivery to sign yet"
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

// lateProxy is an S3 endpoint that is down (nothing listens on its port)
// until up, and from then on forwards to the real server, keeping the Host
// header that S3 request signatures cover.
type lateProxy struct {
	addr   string
	target *url.URL
	mu     sync.Mutex
	srv    *http.Server
}

// newLateProxy reserves a port for the proxy without listening on it.
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
	addr := ln.Addr().String()
	ln.Close()
	p := &lateProxy{addr: addr, target: u}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.srv.Shutdown(ctx)
		}
	})
	return p
}

// URL is the endpoint the functions are given.
func (p *lateProxy) URL() string { return "http://" + p.addr }

// up starts listening and forwarding.
func (p *lateProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("S3 proxy: the reserved port %s was taken meanwhile: %v", p.addr, err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(p.target)
		r.Out.Host = r.In.Host
	}}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 5 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("S3 proxy: %v", err)
		}
	}()
}

package e2e

import (
	"context"
	"errors"
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
	s := newStack(t, stackOptions{s3: &kms, functionEnv: map[string][]string{"sign": env, "submit": env}})
	for _, fn := range []string{"sign", "submit"} {
		if log := s.functionLog(fn); !strings.Contains(log, "could not probe the S3 server's conditional writes at start") {
			t.Fatalf("%s did not start with its S3 down:\n%s", fn, log)
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
	}
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
// header that S3 request signatures cover, until down again.
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

// down stops listening and drops every open connection: S3 stopped.
func (p *lateProxy) down(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv == nil {
		t.Fatal("S3 proxy: down while not up")
	}
	_ = srv.Close()
}

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

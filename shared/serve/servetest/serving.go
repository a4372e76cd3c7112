package servetest

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/config"
)

// Serve runs a function's run with env, on a free port and a lock file of
// its own, until the test ends, and returns its base URL once it answers
// /healthz. The test fails if run returns an error.
func Serve(t *testing.T, run func(context.Context, config.Source) error, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	all := map[string]string{"PORT": strconv.Itoa(port), "LOCK_FILE": filepath.Join(t.TempDir(), "function.lock"), "LOG_LEVEL": "error"}
	for k, v := range env {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, config.Map(all)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the function stopped with an error: %v", err)
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := Get(t, base+"/healthz"); code == http.StatusOK {
			return base
		}
		select {
		case err := <-done:
			t.Fatalf("the function stopped before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the function did not answer /healthz within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Get fetches url and returns the status and body (0 when no answer came).
func Get(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// ClosedAddr is a local address nothing listens on (a port just freed).
func ClosedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// ExpectNotReadyWithoutBrokerOrArchive runs a function that needs the broker
// and the archive (sign, submit) with both out of reach: it must be alive,
// answer /_/ready with 503 naming both, and serve its metrics (the
// readiness probe's failed S3 call among them).
func ExpectNotReadyWithoutBrokerOrArchive(t *testing.T, run func(context.Context, config.Source) error) {
	t.Helper()
	env := CertificateEnv(t)
	env["AMQP_URL"] = "amqp://guest:guest@" + ClosedAddr(t) + "/"
	env["S3_ENDPOINT"] = "http://" + ClosedAddr(t)
	base := Serve(t, run, env)
	if code, _ := Get(t, base+"/_/health"); code != http.StatusOK {
		t.Errorf("/_/health: %d, want 200 (alive)", code)
	}
	code, body := Get(t, base+"/_/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "broker:") || !strings.Contains(body, "archive:") {
		t.Errorf("/_/ready: %d %q, want 503 naming the broker and the archive", code, body)
	}
	code, body = Get(t, base+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `dte_s3_requests_total{operation="list",outcome="error"}`) || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Errorf("/metrics: %d, want the metrics (the readiness probe's S3 call among them):\n%s", code, body)
	}
}

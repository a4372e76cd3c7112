package servetest

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
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

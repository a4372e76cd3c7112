package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunHealthAndGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ready atomic.Bool
	release := make(chan struct{})
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release // an in-flight request that outlives the shutdown signal
		_, _ = io.WriteString(w, "done")
	})
	lock := filepath.Join(t.TempDir(), ".lock")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{Listener: ln, Handler: h, LockFile: lock, Ready: func(context.Context) error {
			if !ready.Load() {
				return errors.New("broker down")
			}
			return nil
		}})
	}()
	base := "http://" + ln.Addr().String()
	waitFor(t, func() bool { _, err := os.Stat(lock); return err == nil })
	for path, want := range map[string]int{PathHealthz: 200, PathHealth: 200, PathReady: 503} {
		if got := status(t, base+path); got != want {
			t.Errorf("GET %s = %d, want %d", path, got, want)
		}
	}
	ready.Store(true)
	if got := status(t, base+PathReady); got != 200 {
		t.Errorf("ready after recovery = %d", got)
	}

	body := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/work")
		if err != nil {
			body <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-started
	cancel()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if got := <-body; got != "done" {
		t.Fatalf("in-flight request got %q, want it finished", got)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatal("lock file left behind")
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met")
}

// TestMuxAnswers: the health paths take GET and HEAD only; a path that
// is not clean is not found (not redirected); everything else is the
// function's.
func TestMuxAnswers(t *testing.T) {
	fn := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux := Mux(fn, func(context.Context) error { return nil })
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, PathHealthz, 200},
		{http.MethodHead, PathHealth, 200},
		{http.MethodGet, PathReady, 200},
		{http.MethodPost, PathHealthz, 405},
		{http.MethodPost, PathHealth, 405},
		{http.MethodPut, PathReady, 405},
		{http.MethodPost, "/", http.StatusTeapot},
		{http.MethodPost, "/dead", http.StatusTeapot},
		{http.MethodPost, "/../x", 404},
		{http.MethodGet, "/a/../healthz", 404},
		{http.MethodPost, "//x", 404},
		{http.MethodPost, "/./", 404},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "/", nil)
		req.URL.Path = tt.path // as sent, uncleaned
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
		if rec.Code == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: 405 without Allow", tt.method, tt.path)
		}
	}
}

// TestMuxMetrics: /metrics, when served, takes GET and HEAD like the
// health paths.
func TestMuxMetrics(t *testing.T) {
	fn := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "# metrics\n") })
	for _, tt := range []struct {
		mux          http.Handler
		method, path string
		want         int
	}{
		{mux(fn, nil, metrics), http.MethodGet, "/metrics", 200},
		{mux(fn, nil, metrics), http.MethodHead, "/metrics", 200},
		{mux(fn, nil, metrics), http.MethodPost, "/metrics", 405},
		{Mux(fn, nil), http.MethodGet, "/metrics", http.StatusTeapot}, // no metrics: the function's
	} {
		rec := httptest.NewRecorder()
		tt.mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}

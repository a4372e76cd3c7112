package serve

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadyChecks: every failing check is named, answers are reused for
// the TTL (the broker and the archive are not asked at each probe), and
// liveness never asks them.
func TestReadyChecks(t *testing.T) {
	var brokerCalls, archiveCalls atomic.Int32
	var brokerDown atomic.Bool
	brokerDown.Store(true)
	ready := ReadyChecks(50*time.Millisecond,
		Check{Name: "broker", Probe: func(context.Context) error {
			brokerCalls.Add(1)
			if brokerDown.Load() {
				return errors.New("dial tcp 127.0.0.1:5672: connection refused")
			}
			return nil
		}},
		Check{Name: "archive", Probe: func(context.Context) error { archiveCalls.Add(1); return errors.New("S3 unreachable") }},
	)
	h := Mux(http.NotFoundHandler(), ready)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	code, body := get(PathReady)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "broker: dial tcp") || !strings.Contains(body, "archive: S3 unreachable") {
		t.Fatalf("ready: %d %q, want 503 naming both checks", code, body)
	}
	for _, p := range []string{PathHealthz, PathHealth} {
		if code, _ := get(p); code != http.StatusOK {
			t.Errorf("%s: %d: liveness must not depend on the checks", p, code)
		}
	}
	get(PathReady)
	if brokerCalls.Load() != 1 || archiveCalls.Load() != 1 {
		t.Errorf("probes ran %d and %d times within the TTL, want once each", brokerCalls.Load(), archiveCalls.Load())
	}
	brokerDown.Store(false) // the broker is back; the archive is not
	time.Sleep(60 * time.Millisecond)
	code, body = get(PathReady)
	if code != http.StatusServiceUnavailable || strings.Contains(body, "broker") || !strings.Contains(body, "archive") {
		t.Errorf("after the TTL: %d %q, want 503 naming the archive only", code, body)
	}
	ok := Mux(http.NotFoundHandler(), ReadyChecks(time.Second, Check{Name: "x", Probe: func(context.Context) error { return nil }}))
	rec := httptest.NewRecorder()
	ok.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathReady, nil))
	if rec.Code != http.StatusOK {
		t.Errorf("every check passing: %d", rec.Code)
	}
}

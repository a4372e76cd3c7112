package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/webhook"
	"github.com/dtecl/pipeline/tools/load"
)

// TestLoadCommand: dte load signs with ENQUEUE_SECRET, reports on standard
// output and in -json, and exits 1 when a request was not accepted.
func TestLoadCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify([]byte("cli-secret"), r.Header.Get(webhook.Header), body, time.Now(), webhook.DefaultWindow) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	js := filepath.Join(t.TempDir(), "load.json")
	env := map[string]string{"ENQUEUE_SECRET": "cli-secret"}
	args := []string{"load", "--url", srv.URL + "/", "--rate", "50", "--duration", "200ms", "--samples", sampleRequests,
		"--types", "33,61", "--first-folio", "100", "--json", js}
	stdout, stderr, code := runDTE(t, env, args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"offered   10 requests at 50/s", "accepted  10 (202)", "errors    none", "latency   p50"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("standard output lacks %q:\n%s", w, stdout)
		}
	}
	if !strings.Contains(stderr, "types [33 61], folios 100…109") {
		t.Errorf("standard error lacks the plan:\n%s", stderr)
	}
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var sum load.Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.OK != 10 || sum.Sent != 10 || sum.LatencyMS.N != 10 {
		t.Errorf("JSON summary %+v", sum)
	}

	// A wrong secret: every request refused, exit 1.
	stdout, _, code = runDTE(t, map[string]string{"ENQUEUE_SECRET": "other"}, args[:len(args)-2]...)
	if code != 1 || !strings.Contains(stdout, "status 401: 10") {
		t.Errorf("with a wrong secret: exit %d, want 1 and 10 × 401:\n%s", code, stdout)
	}
}

func TestLoadCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "--types", "33,x"}, `"x" is not a document type`},
		{[]string{"load", "--samples", sampleRequests, "--types", "39"}, "no sample request of type 39"},
		{[]string{"load", "--samples", sampleRequests, "--rate", "0"}, "rate 0"},
		{[]string{"load", "extra"}, "usage: dte load"},
	} {
		_, stderr, code := runDTE(t, nil, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("dte %s: exit %d, stderr %q; want an error saying %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

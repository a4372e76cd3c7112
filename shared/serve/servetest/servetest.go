// Package servetest helps the functions' tests of their wiring: it runs a
// function's main in a child process, so that a test sees what an operator
// sees (the exit status and the message), delivers CloudEvents to a
// handler as the platforms do, and records what delivery publishes. Only
// tests import it.
package servetest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/events"
)

// envChild marks the child process: the test binary run as the function.
const envChild = "DTE_SERVETEST_RUN_MAIN"

// Main is a TestMain that runs main instead of the tests when the binary
// was started by RunMain.
func Main(m *testing.M, main func()) {
	if os.Getenv(envChild) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// RunMain runs the test binary as the function with only env (and PATH)
// in its environment, and returns its exit status and output. The function
// must exit by itself (RunMain is for start-up failures); it is killed
// after a minute.
func RunMain(t *testing.T, env ...string) (status int, output string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{envChild + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("run %s as the function: %v", os.Args[0], err)
	return 0, ""
}

// ExpectStartFailure runs the function with env (and a port and lock file
// of its own) and fails the test unless it exits with status 1 and a
// message "<function>: ..." that says each of want.
func ExpectStartFailure(t *testing.T, function string, env []string, want ...string) {
	t.Helper()
	env = append([]string{"PORT=0", "LOCK_FILE=" + filepath.Join(t.TempDir(), function+".lock")}, env...)
	status, out := RunMain(t, env...)
	if status != 1 {
		t.Fatalf("exit status %d, want 1:\n%s", status, out)
	}
	for _, w := range append([]string{function + ": "}, want...) {
		if !strings.Contains(out, w) {
			t.Errorf("the message does not say %q:\n%s", w, out)
		}
	}
}

// PostEvent delivers e to h at path as the platforms do (a CloudEvent in
// binary mode) and returns the answer.
func PostEvent(t *testing.T, h http.Handler, path string, e events.Event) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Publisher records what delivery publishes (delivery.Publisher), as
// "routing key/delay".
type Publisher struct {
	mu   sync.Mutex
	sent []string
}

// PublishEventTo records the publish and confirms it.
func (p *Publisher) PublishEventTo(_ context.Context, key string, _ events.Event, delay time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, key+"/"+delay.String())
	return nil
}

// Sent lists the publishes so far, space-separated: "cl.dte.signed/0s
// dte.sign/5s".
func (p *Publisher) Sent() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.sent, " ")
}

// StartAndStop runs a function's run with env, plus a port and a lock file
// of its own, under a context that is already done: the function must get
// as far as serving, then stop cleanly and remove its lock file.
func StartAndStop(t *testing.T, run func(context.Context, config.Source) error, env map[string]string) {
	t.Helper()
	lock := filepath.Join(t.TempDir(), "function.lock")
	all := map[string]string{"PORT": "0", "LOCK_FILE": lock, "LOG_LEVEL": "error"}
	for k, v := range env {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := run(ctx, config.Map(all)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock file %s left behind (%v)", lock, err)
	}
}

// CertificateEnv is the environment of a function that signs (sign,
// submit): a throwaway signing certificate written as PKCS#12 (CERT_FILE,
// CERT_PASSWORD), and no S3 probe, so that the function starts without an
// S3 server.
func CertificateEnv(t *testing.T) map[string]string {
	t.Helper()
	files, err := dtetest.MustShared(t).WriteFiles(t.TempDir(), "servetest")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"CERT_FILE": files.SignerP12, "CERT_PASSWORD": files.Password, "S3_PROBE": "false"}
}

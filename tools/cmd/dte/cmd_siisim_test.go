package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/sii"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSIISimCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	env := &cliEnv{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		done <- runSIISim(ctx, env, []string{"-addr", "127.0.0.1:0", "-step", "0",
			"-sii-keys", siiCAFKeys, "-fail-5xx", "1", "-fault-ops", "getSeed"})
	}()
	var url string
	re := regexp.MustCompile(`on (http://\S+)`)
	for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no URL announced; stdout %q stderr %q", out.String(), errb.String())
	}
	c, err := sii.NewClient(sii.Environment(url), sii.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// -fail-5xx 1 -fault-ops getSeed: the first seed fails, the second works.
	if _, err := c.GetSeed(ctx); err == nil || !sii.IsTransient(err) {
		t.Fatalf("first getSeed: %v, want the injected transient failure", err)
	}
	if seed, err := c.GetSeed(ctx); err != nil || len(seed) != 12 {
		t.Fatalf("second getSeed: %q %v", seed, err)
	}
	resp, err := http.Get(url + "/admin/stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"getSeed": 2`) {
		t.Errorf("stats %s", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("command ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("command did not stop when its context ended")
	}
}

func TestSIISimFlags(t *testing.T) {
	tests := map[string][]string{
		"bad reject":   {"-reject", "nokey"},
		"bad keys dir": {"-sii-keys", "/nonexistent"},
		"bad fault op": {"-sii-keys", siiCAFKeys, "-fail-5xx", "1", "-fault-ops", "upload2"},
		"bad dtekey":   {"-sii-keys", siiCAFKeys, "-reject", "x=y"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errb syncBuffer
			env := &cliEnv{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			if err := runSIISim(context.Background(), env, append([]string{"-addr", "127.0.0.1:0"}, args...)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

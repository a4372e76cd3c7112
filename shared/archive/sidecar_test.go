package archive_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/testenv"
)

// TestVersitySidecar runs the lost-update test against a versitygw of its
// own with --sidecar metadata: the mode (used where the filesystem has no
// user xattrs) in which versitygw v1.8.0 hands out torn ETag/body pairs,
// and which getConsistent exists for. It needs the binary that
// scripts/s3-server.sh installs: $VERSITYGW, else versitygw on PATH (make
// puts the tools folder there; scripts/s3-server.sh bin prints its path).
func TestVersitySidecar(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	bin := os.Getenv("VERSITYGW")
	if bin == "" {
		bin = "versitygw"
	}
	bin, err := exec.LookPath(bin)
	if err != nil {
		testenv.Unavailable(t, "no versitygw binary (scripts/s3-server.sh install, then set VERSITYGW=$(scripts/s3-server.sh bin) or put it on PATH): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	data, meta := filepath.Join(dir, "data"), filepath.Join(dir, "meta")
	for _, d := range []string{data, meta} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--port", addr, "--health", "/health", "--quiet", "posix", "--sidecar", meta, data)
	cmd.Env = []string{"ROOT_ACCESS_KEY=" + defaultTestAccessKey, "ROOT_SECRET_KEY=" + defaultTestSecretKey}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	endpoint := "http://" + addr
	waitHealthy(t, endpoint+"/health", 10*time.Second)
	s, err := archive.NewS3(archive.S3Config{Endpoint: endpoint, Bucket: testBucket, AccessKey: defaultTestAccessKey, SecretKey: defaultTestSecretKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	caps, err := archive.ProbeConditionalWrites(testCtx(t), s)
	if err != nil || caps != (archive.Capabilities{IfNoneMatch: true, IfMatch: true, MD5ETags: true}) {
		t.Fatalf("probe: %+v, %v", caps, err)
	}
	for range 3 { // the race shows up in about half of the runs without the fix
		concurrentUpdates(t, s)
	}
}

func waitHealthy(t *testing.T, url string, within time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within %v: %v", url, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

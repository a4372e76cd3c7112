package archive_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/errs"
)

// down is a store that fails every call while it is down, as an S3 server
// that is not there yet.
type down struct {
	archive.Store
	isDown atomic.Bool
	puts   atomic.Int32
}

var errDown = errors.New("dial tcp 127.0.0.1:7080: connect: connection refused")

func (d *down) Get(ctx context.Context, key string) (archive.Object, error) {
	if d.isDown.Load() {
		return archive.Object{}, errDown
	}
	return d.Store.Get(ctx, key)
}

func (d *down) Put(ctx context.Context, key string, body []byte, opts archive.PutOptions) (string, error) {
	d.puts.Add(1)
	if d.isDown.Load() {
		return "", errDown
	}
	return d.Store.Put(ctx, key, body, opts)
}

func (d *down) Delete(ctx context.Context, key string) error {
	if d.isDown.Load() {
		return errDown
	}
	return d.Store.Delete(ctx, key)
}

// TestProbeLater: an archive whose probe has not succeeded writes nothing
// (every write fails, transiently, naming the probe's error), probes at
// most once a second while the server is down, and once the server is
// there probes again, logs what it found, and works: here with opaque
// ETags (an SSE-KMS bucket), which it must not take for MD5s.
func TestProbeLater(t *testing.T) {
	mem := archivetest.NewMemWith(archivetest.MemOptions{OpaqueETags: true})
	store := &down{Store: mem}
	store.isDown.Store(true)
	var logs bytes.Buffer
	a := archive.New(store, archive.WithProbe(), archive.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	k := mustKey(t, randomIssuer(t), 33, 1)
	update := func() error {
		_, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Checks++; return nil })
		return err
	}
	for i := range 3 {
		err := update()
		if err == nil || errs.IsPermanent(err) || !errors.Is(err, errDown) || !strings.Contains(err.Error(), "not known yet") {
			t.Fatalf("update #%d while down = %v, want the transient probe error", i+1, err)
		}
	}
	if _, err := a.PutDTE(testCtx(t), k, []byte("<DTE/>"), "d"); err == nil || !errors.Is(err, errDown) {
		t.Fatalf("PutDTE while down = %v", err)
	}
	if n := store.puts.Load(); n != 1 {
		t.Errorf("%d probe writes within a second, want 1", n)
	}
	if len(mem.Keys()) != 0 {
		t.Fatalf("written while the probe failed: %v", mem.Keys())
	}

	store.isDown.Store(false)
	time.Sleep(1100 * time.Millisecond) // the re-probe interval
	for i := range 3 {
		if err := update(); err != nil {
			t.Fatalf("update #%d once the server is there: %v", i+1, err)
		}
	}
	st, _, err := a.LoadState(testCtx(t), k)
	if err != nil || st.Checks != 3 {
		t.Fatalf("state %+v, %v; want 3 checks", st, err)
	}
	if !strings.Contains(logs.String(), `"md5_etags":false`) || !strings.Contains(logs.String(), `"when":"probed again"`) {
		t.Errorf("the capabilities found are not logged:\n%s", logs.String())
	}
	if probes := strings.Count(logs.String(), "S3 capabilities"); probes != 1 {
		t.Errorf("%d capability lines, want 1 (one successful probe):\n%s", probes, logs.String())
	}
}

// TestOpen: a function's archive logs what the probe found at start; when
// S3 is unreachable it starts anyway, assuming nothing.
func TestOpen(t *testing.T) {
	srv := s3Servers()[2] // minio-sse-kms
	cfg := srv.config(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	a, err := archive.Open(testCtx(t), cfg, true, log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"md5_etags":false`) || !strings.Contains(logs.String(), `"when":"start"`) {
		t.Errorf("no capability line at start:\n%s", logs.String())
	}
	issuer := randomIssuer(t)
	cleanupPrefixes(t, a.Store(), archive.PrefixState+issuer.String()+"/")
	if _, err := a.UpdateState(testCtx(t), mustKey(t, issuer, 33, 1), func(s *archive.State) error { s.Checks++; return nil }); err != nil {
		t.Fatal(err)
	}

	logs.Reset()
	unreachable := cfg
	unreachable.Endpoint = "http://127.0.0.1:1" // nothing listens on port 1
	unreachable.MaxAttempts = 1
	a, err = archive.Open(testCtx(t), unreachable, true, log)
	if err != nil {
		t.Fatalf("Open with S3 down must not fail: %v", err)
	}
	if !strings.Contains(logs.String(), "could not probe") || strings.Contains(logs.String(), "assuming") {
		t.Errorf("start log:\n%s", logs.String())
	}
	_, err = a.UpdateState(testCtx(t), mustKey(t, issuer, 33, 2), func(s *archive.State) error { return nil })
	if err == nil || errs.IsPermanent(err) || !strings.Contains(err.Error(), "not known yet") {
		t.Fatalf("a write with S3 down = %v, want transient and naming the probe", err)
	}
}

package archive_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

// torn is a store whose next reads pair the current body with a newer
// ETag (and, with meta, newer sha256 metadata), as versitygw --sidecar does
// while a PUT is being published. With strip, reads carry no metadata, as
// for an object another tool wrote.
type torn struct {
	archive.Store
	mu sync.Mutex
	tornCfg
	gets int
}

// tornCfg is how torn tears: the next left reads, metadata too (meta), no
// metadata at all (strip).
type tornCfg struct {
	left  int
	meta  bool
	strip bool
}

func (s *torn) Get(ctx context.Context, key string) (archive.Object, error) {
	obj, err := s.Store.Get(ctx, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if err != nil {
		return obj, err
	}
	if s.strip {
		obj.Metadata = nil
	}
	if s.left > 0 {
		s.left--
		obj.ETag = `"ffffffffffffffffffffffffffffffff"`
		if s.meta {
			obj.Metadata = map[string]string{archive.MetaSHA256: strings.Repeat("0", 64)}
		}
	}
	return obj, err
}

func (s *torn) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

// TestTornReads: how many reads UpdateState needs before it trusts an
// ETag, by what is known of the server's ETags and what the object carries.
func TestTornReads(t *testing.T) {
	md5 := archive.Capabilities{IfMatch: true, IfNoneMatch: true, MD5ETags: true}
	opaque := archive.Capabilities{IfMatch: true, IfNoneMatch: true}
	tests := []struct {
		name     string
		mem      archivetest.MemOptions
		caps     *archive.Capabilities // nil: nothing known
		store    tornCfg
		wantGets int // reads of the state before the write
	}{
		{"md5 server, consistent read", archivetest.MemOptions{}, &md5, tornCfg{}, 1},
		{"md5 server, torn reads are read again", archivetest.MemOptions{}, &md5, tornCfg{left: 3}, 4},
		{"md5 server, torn ETag with torn metadata", archivetest.MemOptions{}, &md5, tornCfg{left: 2, meta: true}, 3},
		{"opaque ETags, sha256 metadata agrees", archivetest.MemOptions{OpaqueETags: true}, &opaque, tornCfg{}, 1},
		{"opaque ETags, torn metadata is read again", archivetest.MemOptions{OpaqueETags: true}, &opaque, tornCfg{left: 2, meta: true}, 3},
		{"opaque ETags, no metadata: two reads must agree", archivetest.MemOptions{OpaqueETags: true}, &opaque, tornCfg{strip: true}, 2},
		{"nothing known: metadata and two reads", archivetest.MemOptions{OpaqueETags: true}, nil, tornCfg{}, 2},
		{"nothing known, MD5 ETag: one read", archivetest.MemOptions{}, nil, tornCfg{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := archivetest.NewMemWith(tt.mem)
			k := mustKey(t, randomIssuer(t), 33, 8)
			seed := archive.New(mem)
			if _, err := seed.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusQueued; return nil }); err != nil {
				t.Fatal(err)
			}
			store := &torn{Store: mem, tornCfg: tt.store}
			var opts []archive.Option
			if tt.caps != nil {
				opts = append(opts, archive.WithCapabilities(*tt.caps))
			}
			a := archive.New(store, append(opts, archive.WithMaxUpdateAttempts(1))...)
			if _, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusSigned; return nil }); err != nil {
				t.Fatal(err)
			}
			if got := store.reads(); got != tt.wantGets {
				t.Errorf("%d reads, want %d", got, tt.wantGets)
			}
		})
	}
}

// TestETagKindLearntFromWrites: with nothing probed, the answer to the
// archive's own write tells it the server's ETags; one read suffices then.
func TestETagKindLearntFromWrites(t *testing.T) {
	for _, opaque := range []bool{false, true} {
		mem := archivetest.NewMemWith(archivetest.MemOptions{OpaqueETags: opaque})
		store := &torn{Store: mem}
		a := archive.New(store)
		k := mustKey(t, randomIssuer(t), 33, 8)
		for range 2 {
			if _, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Checks++; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		// First update: 1 read (missing). Second: 1 read, the kind being
		// known from the first write.
		if got := store.reads(); got != 2 {
			t.Errorf("opaque=%v: %d reads, want 2", opaque, got)
		}
	}
}

// TestTornReadThatNeverHeals: a pair that never settles fails after the
// budget; a stable non-MD5 ETag on an MD5 server is taken as opaque.
func TestTornReadThatNeverHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the torn-read budget (2 s)")
	}
	md5 := archive.Capabilities{IfMatch: true, IfNoneMatch: true, MD5ETags: true}
	opaque := archive.Capabilities{IfMatch: true, IfNoneMatch: true}
	tests := []struct {
		name    string
		caps    archive.Capabilities
		store   tornCfg
		wantErr string // "" for success with a warning
	}{
		{"md5 server, ETag and metadata never match", md5, tornCfg{left: 1 << 30, meta: true}, "the ETag is not the MD5 of the body"},
		{"opaque ETags, sha256 metadata never matches", opaque, tornCfg{left: 1 << 30, meta: true}, "sha256 metadata is not the digest"},
		{"md5 server, stable ETag that is not an MD5", md5, tornCfg{left: 1 << 30}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := archivetest.NewMem()
			k := mustKey(t, randomIssuer(t), 33, 8)
			if _, err := archive.New(mem).UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusQueued; return nil }); err != nil {
				t.Fatal(err)
			}
			store := &torn{Store: mem, tornCfg: tt.store}
			var logs bytes.Buffer
			a := archive.New(store, archive.WithCapabilities(tt.caps), archive.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			start := time.Now()
			_, _, err := a.LoadState(testCtx(t), k)
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "taken as opaque") {
				t.Errorf("no warning logged: %s", logs.String())
			}
		})
	}
}

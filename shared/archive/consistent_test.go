package archive_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

// torn is a store whose next reads pair the current body with a newer
// ETag, as versitygw --sidecar does while a PUT is being published.
type torn struct {
	archive.Store
	mu   sync.Mutex
	left int
	gets int
}

func (s *torn) Get(ctx context.Context, key string) (archive.Object, error) {
	obj, err := s.Store.Get(ctx, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if err == nil && s.left > 0 {
		s.left--
		obj.ETag = `"ffffffffffffffffffffffffffffffff"`
	}
	return obj, err
}

func TestTornReads(t *testing.T) {
	tests := []struct {
		name     string
		tornGets int
		caps     archive.Capabilities
		wantErr  string // "" for success
		wantGets int    // reads of the state before the write
	}{
		{"consistent read", 0, archive.Capabilities{IfMatch: true, IfNoneMatch: true, MD5ETags: true}, "", 1},
		{"torn reads are read again", 3, archive.Capabilities{IfMatch: true, IfNoneMatch: true, MD5ETags: true}, "", 4},
		{"without MD5 ETags nothing is checked", 1, archive.Capabilities{IfMatch: true, IfNoneMatch: true}, "changed by another writer", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := archivetest.NewMem()
			k := mustKey(t, randomIssuer(t), 33, 8)
			seed := archive.New(mem)
			if _, err := seed.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusQueued; return nil }); err != nil {
				t.Fatal(err)
			}
			store := &torn{Store: mem, left: tt.tornGets}
			a := archive.New(store, archive.WithCapabilities(tt.caps), archive.WithMaxUpdateAttempts(1))
			_, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusSigned; return nil })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if store.gets != tt.wantGets {
					t.Errorf("%d reads, want %d", store.gets, tt.wantGets)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTornReadThatNeverHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the torn-read budget (2 s)")
	}
	mem := archivetest.NewMem()
	k := mustKey(t, randomIssuer(t), 33, 8)
	if _, err := archive.New(mem).UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusQueued; return nil }); err != nil {
		t.Fatal(err)
	}
	a := archive.New(&torn{Store: mem, left: 1 << 30})
	start := time.Now()
	_, _, err := a.LoadState(testCtx(t), k)
	if err == nil || !strings.Contains(err.Error(), "not the MD5 of the body") || errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

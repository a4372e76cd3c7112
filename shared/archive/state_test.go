package archive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
)

func TestUpdateStateLifecycle(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			issuer := randomIssuer(t)
			cleanupPrefixes(t, s, archive.PrefixState+issuer.String()+"/")
			ctx := testCtx(t)
			clock := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
			a := archive.New(s, archive.WithClock(func() time.Time { return clock }))
			k := mustKey(t, issuer, 33, 1042)

			if _, _, err := a.LoadState(ctx, k); !errors.Is(err, archive.ErrNotFound) {
				t.Fatalf("LoadState of a new document = %v, want ErrNotFound", err)
			}
			st, err := a.UpdateState(ctx, k, func(s *archive.State) error {
				if s.DTEKey != k.String() || len(s.History) != 0 || s.Status != "" {
					return fmt.Errorf("fresh state not empty: %+v", s)
				}
				s.RequestDigest = "req"
				s.Record(clock, archive.StatusQueued, "", "ev-1")
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != archive.StatusQueued || !st.UpdatedAt.Equal(clock) || st.DTEKey != k.String() {
				t.Fatalf("after first update: %+v", st)
			}
			_, v1, err := a.LoadState(ctx, k)
			if err != nil || v1 == "" {
				t.Fatalf("LoadState = version %q, %v", v1, err)
			}

			clock = clock.Add(time.Minute)
			_, err = a.UpdateState(ctx, k, func(s *archive.State) error {
				if s.Seen("ev-2") {
					return archive.ErrNoUpdate
				}
				s.ArchiveKey, s.Digest = "dte/x.xml", "d"
				s.Record(clock, archive.StatusSigned, "signed", "ev-2")
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}

			t.Run("ErrNoUpdate writes nothing", func(t *testing.T) {
				_, before, _ := a.LoadState(ctx, k)
				st, err := a.UpdateState(ctx, k, func(s *archive.State) error {
					if s.Seen("ev-2") {
						return archive.ErrNoUpdate
					}
					return errors.New("ev-2 not seen")
				})
				_, after, _ := a.LoadState(ctx, k)
				if err != nil || st.Status != archive.StatusSigned || before != after {
					t.Fatalf("got %v, %q; versions %q -> %q", err, st.Status, before, after)
				}
			})
			t.Run("an error from fn aborts", func(t *testing.T) {
				boom := errs.Permanentf("folio outside every CAF")
				_, err := a.UpdateState(ctx, k, func(s *archive.State) error {
					s.Record(clock, archive.StatusError, "half", "ev-x")
					return boom
				})
				if !errors.Is(err, boom) || !errs.IsPermanent(err) {
					t.Fatalf("err = %v, want the fn's permanent error", err)
				}
				st, _, _ := a.LoadState(ctx, k)
				if st.Status != archive.StatusSigned {
					t.Fatalf("aborted update was written: %q", st.Status)
				}
			})
			t.Run("unknown status is refused", func(t *testing.T) {
				_, err := a.UpdateState(ctx, k, func(s *archive.State) error { s.Status = "done"; return nil })
				if err == nil || !errs.IsPermanent(err) {
					t.Fatalf("err = %v, want a permanent error", err)
				}
			})

			got, _, err := a.LoadState(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			want := archive.State{
				DTEKey: k.String(), Status: archive.StatusSigned, RequestDigest: "req",
				ArchiveKey: "dte/x.xml", Digest: "d", UpdatedAt: clock,
				History: []archive.Entry{
					{At: clock.Add(-time.Minute), Status: archive.StatusQueued, EventID: "ev-1"},
					{At: clock, Status: archive.StatusSigned, Detail: "signed", EventID: "ev-2"},
				},
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if string(gj) != string(wj) {
				t.Fatalf("state\n got %s\nwant %s", gj, wj)
			}
		})
	}
}

// TestUpdateStateConcurrent: several writers updating one document lose
// no update, on every backend that honours If-Match.
func TestUpdateStateConcurrent(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { concurrentUpdates(t, b.open(t)) })
	}
}

// concurrentUpdates has 6 writers make 5 updates each to one document and
// checks that all 30 are in the final state.
func concurrentUpdates(t *testing.T, s archive.Store) {
	t.Helper()
	const writers, updates = 6, 5
	issuer := randomIssuer(t)
	cleanupPrefixes(t, s, archive.PrefixState+issuer.String()+"/")
	ctx := testCtx(t)
	a := archive.New(s)
	k := mustKey(t, issuer, 61, 7)
	var wg sync.WaitGroup
	errc := make(chan error, writers*updates)
	for w := range writers {
		wg.Go(func() {
			for u := range updates {
				id := fmt.Sprintf("w%d-u%d", w, u)
				_, err := a.UpdateState(ctx, k, func(s *archive.State) error {
					s.Checks++
					s.Record(time.Now(), archive.StatusSent, "", id)
					return nil
				})
				if err != nil {
					errc <- fmt.Errorf("%s: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	st, _, err := a.LoadState(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if st.Checks != writers*updates || len(st.History) != writers*updates {
		t.Fatalf("checks %d, history %d; want %d each: updates were lost", st.Checks, len(st.History), writers*updates)
	}
	var ids []string
	for _, e := range st.History {
		ids = append(ids, e.EventID)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != writers*updates {
		t.Fatalf("duplicate entries: %v", ids)
	}
}

// lostAnswer is a store whose next conditional Put is carried out but
// answered with ErrConflict, as when a PUT's response is lost and the SDK's
// retry is refused by the write it made itself.
type lostAnswer struct {
	archive.Store
	mu   sync.Mutex
	left int
}

func (l *lostAnswer) Put(ctx context.Context, key string, body []byte, opts archive.PutOptions) (string, error) {
	etag, err := l.Store.Put(ctx, key, body, opts)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.left > 0 && (opts.IfMatch != "" || opts.IfNoneMatch != "") {
		l.left--
		return "", fmt.Errorf("put %s: %w", key, archive.ErrConflict)
	}
	return etag, err
}

func TestUpdateStateRecognisesItsOwnWrite(t *testing.T) {
	mem := archivetest.NewMem()
	a := archive.New(&lostAnswer{Store: mem, left: 2})
	k := mustKey(t, randomIssuer(t), 33, 5)
	calls := 0
	for i := range 2 {
		_, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error {
			calls++
			s.Record(time.Now(), archive.StatusQueued, "", fmt.Sprint("ev", i))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	st, _, err := a.LoadState(testCtx(t), k)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.History) != 2 || calls != 2 {
		t.Fatalf("history %d entries after %d fn calls; want 2 and 2 (no double apply)", len(st.History), calls)
	}
}

func TestUpdateStateGivesUp(t *testing.T) {
	mem := archivetest.NewMem()
	a := archive.New(mem, archive.WithMaxUpdateAttempts(3))
	k := mustKey(t, randomIssuer(t), 33, 6)
	key, _ := archive.StateObjectKey(k)
	mem.FailNext("put", archive.ErrConflict, archive.ErrConflict, archive.ErrConflict)
	_, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error { s.Status = archive.StatusQueued; return nil })
	if !errors.Is(err, archive.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if mem.Calls("put") != 3 {
		t.Fatalf("%d puts, want 3", mem.Calls("put"))
	}
	if _, ok := mem.Raw(key); ok {
		t.Fatal("state written despite the conflicts")
	}
}

func TestUpdateStateTransientAndCancel(t *testing.T) {
	t.Run("store failure is returned, not retried", func(t *testing.T) {
		mem := archivetest.NewMem()
		a := archive.New(mem)
		down := errors.New("connection refused")
		mem.FailNext("get", down)
		_, err := a.UpdateState(testCtx(t), mustKey(t, randomIssuer(t), 33, 1), func(*archive.State) error { return nil })
		if !errors.Is(err, down) || errs.IsPermanent(err) {
			t.Fatalf("err = %v, want the transient store error", err)
		}
	})
	t.Run("cancelled context stops the retries", func(t *testing.T) {
		mem := archivetest.NewMem()
		a := archive.New(mem, archive.WithMaxUpdateAttempts(1000))
		conflicts := make([]error, 1000)
		for i := range conflicts {
			conflicts[i] = archive.ErrConflict
		}
		mem.FailNext("put", conflicts...)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := a.UpdateState(ctx, mustKey(t, randomIssuer(t), 33, 2), func(*archive.State) error { return nil })
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Fatalf("err = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
		}
	})
}

func TestLoadStateCorrupt(t *testing.T) {
	tests := map[string]string{
		"not json":         "{",
		"other dtekey":     `{"dtekey":"76086428-5-33-1","status":"queued","history":[]}`,
		"wrong field type": `{"dtekey":"%s","checks":"many"}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			mem := archivetest.NewMem()
			a := archive.New(mem)
			k := mustKey(t, randomIssuer(t), 33, 9)
			key, _ := archive.StateObjectKey(k)
			if _, err := mem.Put(testCtx(t), key, fmt.Appendf(nil, body, k), archive.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			_, _, err := a.LoadState(testCtx(t), k)
			if !errors.Is(err, archive.ErrCorruptState) || !errs.IsPermanent(err) {
				t.Fatalf("LoadState = %v, want permanent ErrCorruptState", err)
			}
			_, err = a.UpdateState(testCtx(t), k, func(*archive.State) error { return nil })
			if !errors.Is(err, archive.ErrCorruptState) {
				t.Fatalf("UpdateState = %v, want ErrCorruptState", err)
			}
		})
	}
}

// TestUpdateStateWithoutIfMatch: on a server that ignores If-Match (found
// by the probe), UpdateState falls back to read-back verification; with
// sequential writers nothing is lost and a concurrent overwrite is noticed.
func TestUpdateStateWithoutIfMatch(t *testing.T) {
	mem := archivetest.NewMemWith(archivetest.MemOptions{IgnoreIfMatch: true, IgnoreIfNoneMatch: true})
	caps, err := archive.ProbeConditionalWrites(testCtx(t), mem)
	if err != nil {
		t.Fatal(err)
	}
	a := archive.New(mem, archive.WithCapabilities(caps))
	k := mustKey(t, randomIssuer(t), 33, 3)
	for i := range 3 {
		if _, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error {
			s.Record(time.Now(), archive.StatusQueued, "", fmt.Sprint(i))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	st, _, err := a.LoadState(testCtx(t), k)
	if err != nil || len(st.History) != 3 {
		t.Fatalf("history %d, %v; want 3", len(st.History), err)
	}
	// A writer that read before someone else's write is refused.
	key, _ := archive.StateObjectKey(k)
	_, err = a.UpdateState(testCtx(t), k, func(s *archive.State) error {
		if len(s.History) == 3 { // only on the first call: sneak a write in
			raw, _ := mem.Raw(key)
			var other archive.State
			_ = json.Unmarshal(raw, &other)
			other.Record(time.Now(), archive.StatusSigned, "other writer", "other")
			b, _ := json.Marshal(other)
			if _, err := mem.Put(context.Background(), key, b, archive.PutOptions{}); err != nil {
				return err
			}
		}
		s.Record(time.Now(), archive.StatusSent, "", "mine")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, _, _ = a.LoadState(testCtx(t), k)
	if !st.Seen("other") || !st.Seen("mine") {
		t.Fatalf("an update was lost: %+v", st.History)
	}
}

// FuzzLoadState: whatever bytes sit at a state key, LoadState returns a
// state for that document or a permanent ErrCorruptState, never a panic.
func FuzzLoadState(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "state.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{golden, []byte("{}"), []byte(`{"dtekey":"76086428-5-33-1042","history":null}`), []byte("null"), []byte("[")} {
		f.Add(s)
	}
	k, err := dtekey.Parse("76086428-5-33-1042")
	if err != nil {
		f.Fatal(err)
	}
	key, _ := archive.StateObjectKey(k)
	f.Fuzz(func(t *testing.T, body []byte) {
		mem := archivetest.NewMem()
		if _, err := mem.Put(context.Background(), key, body, archive.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		st, _, err := archive.New(mem).LoadState(context.Background(), k)
		if err != nil {
			if !errors.Is(err, archive.ErrCorruptState) || !errs.IsPermanent(err) {
				t.Fatalf("error %v is not a permanent ErrCorruptState", err)
			}
			return
		}
		if st.DTEKey != k.String() || st.History == nil {
			t.Fatalf("accepted a state for %q with history %v", st.DTEKey, st.History)
		}
	})
}

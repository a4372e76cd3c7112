package archive_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
)

// counting counts a store's calls by operation.
type counting struct {
	archive.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *counting) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
}

func (c *counting) Get(ctx context.Context, key string) (archive.Object, error) {
	c.count("get")
	return c.Store.Get(ctx, key)
}

func (c *counting) Put(ctx context.Context, key string, body []byte, o archive.PutOptions) (string, error) {
	c.count("put")
	return c.Store.Put(ctx, key, body, o)
}

func (c *counting) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

// TestUpdateStateFromSeed: an update started from the version the last
// write left (an event's seed) is one conditional write and no read, on
// every backend (versitygw and MinIO included); from a version that is not
// current any more the write is refused and the update goes on from the
// stored state, losing nothing; a seed whose update writes nothing is not
// trusted but read.
func TestUpdateStateFromSeed(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := &counting{Store: b.open(t), calls: map[string]int{}}
			issuer := randomIssuer(t)
			cleanupPrefixes(t, s.Store, archive.PrefixState+issuer.String()+"/")
			ctx := testCtx(t)
			a := archive.New(s, archive.WithClock(func() time.Time { return time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC) }))
			k := mustKey(t, issuer, 33, 7)
			s.take()

			// A new document, started from "no state yet": one create-only
			// write.
			v1, err := a.UpdateStateFrom(ctx, k, &archive.Version{}, func(st *archive.State) error {
				st.Record(time.Now(), archive.StatusSigned, "", "e1")
				return nil
			})
			if err != nil || v1.ETag == "" || v1.State.Status != archive.StatusSigned {
				t.Fatalf("first write: %+v %v", v1, err)
			}
			if c := s.take(); c["get"] != 0 || c["put"] != 1 {
				t.Errorf("create from no state: %v, want one put and no get", c)
			}
			// The seed an event carries, read back.
			seed := archive.VersionOf(k, v1.Seed())
			if seed == nil || seed.ETag != v1.ETag || seed.State.Status != archive.StatusSigned {
				t.Fatalf("the seed read back: %+v", seed)
			}
			v2, err := a.UpdateStateFrom(ctx, k, seed, func(st *archive.State) error {
				st.TrackID = "100"
				return nil
			})
			if err != nil || v2.State.TrackID != "100" || len(v2.State.History) != 1 {
				t.Fatalf("from the seed: %+v %v", v2, err)
			}
			if c := s.take(); c["get"] != 0 || c["put"] != 1 {
				t.Errorf("update from a current seed: %v, want one put and no get", c)
			}
			// The same seed again is stale: refused, then done from the
			// stored state (the TrackID is kept).
			v3, err := a.UpdateStateFrom(ctx, k, seed, func(st *archive.State) error {
				st.Checks++
				return nil
			})
			if err != nil || v3.State.TrackID != "100" || v3.State.Checks != 1 {
				t.Fatalf("from a stale seed: %+v %v", v3, err)
			}
			if c := s.take(); c["put"] != 2 {
				t.Errorf("update from a stale seed: %v, want the refused put and one more", c)
			}
			// Nothing to write from "no state yet" when there is one: the
			// answer is the stored version, not the seed.
			v4, err := a.UpdateStateFrom(ctx, k, &archive.Version{}, func(st *archive.State) error {
				return archive.ErrNoUpdate
			})
			if err != nil || v4.ETag != v3.ETag || v4.State.Checks != 1 {
				t.Fatalf("no update from a stale seed: %+v %v, want the stored version", v4, err)
			}
			st, _, err := a.LoadState(ctx, k)
			if err != nil || st.TrackID != "100" || st.Checks != 1 || len(st.History) != 1 {
				t.Fatalf("stored: %+v %v", st, err)
			}
			if archive.VersionOf(mustKey(t, issuer, 33, 8), v1.Seed()) != nil {
				t.Error("a seed of another document was taken")
			}
		})
	}
}

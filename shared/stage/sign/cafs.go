package sign

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// cafCache keeps the parsed CAFs of each issuer and type for a while, so
// that a burst of documents reads the archive once.
type cafCache struct {
	archive Archive
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]cafEntry
}

type cafEntry struct {
	cafs []*caf.CAF
	at   time.Time
}

func newCAFCache(a Archive, ttl time.Duration, now func() time.Time) *cafCache {
	return &cafCache{archive: a, ttl: ttl, now: now, entries: map[string]cafEntry{}}
}

func (c *cafCache) get(ctx context.Context, k dtekey.Key) ([]*caf.CAF, error) {
	id := fmt.Sprintf("%s/%d", k.Issuer, k.Type)
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	// A folio past every cached range may belong to a CAF added since: read
	// again rather than fail.
	if ok && c.now().Sub(e.at) < c.ttl && covers(e.cafs, k.Folio) {
		return e.cafs, nil
	}
	files, err := c.archive.CAFs(ctx, k.Issuer, k.Type)
	if err != nil {
		return nil, fmt.Errorf("read CAFs: %w", err)
	}
	cafs := make([]*caf.CAF, 0, len(files))
	for _, f := range files {
		parsed, err := caf.Parse(f.Data)
		if err != nil {
			return nil, fmt.Errorf("CAF %s in the archive: %w", f.Key, err)
		}
		cafs = append(cafs, parsed)
	}
	c.mu.Lock()
	c.entries[id] = cafEntry{cafs: cafs, at: c.now()}
	c.mu.Unlock()
	return cafs, nil
}

func covers(cafs []*caf.CAF, folio int64) bool {
	for _, c := range cafs {
		if c.Contains(folio) {
			return true
		}
	}
	return false
}

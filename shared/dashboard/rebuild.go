package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// RebuildProgress is told how far a rebuild got: states read of total.
type RebuildProgress func(read, total int)

// Rebuild fills the projection from the archive's state objects
// (state/{rut}/{type}/{folio}.json): each entry of a state's history
// becomes a fact, and a signed DTE without a state (between sign and its
// upload) a signed one. It is what an empty projection starts from; the queue
// then adds what happened since (facts are idempotent, so an overlap is
// harmless). A state that cannot be read is counted as unreadable, never
// skipped silently. It returns how many states it read.
func (s *Store) Rebuild(ctx context.Context, store archive.Store, progress RebuildProgress) (int, error) {
	objs, err := store.List(ctx, archive.PrefixState)
	if err != nil {
		return 0, fmt.Errorf("rebuild: list %s: %w", archive.PrefixState, err)
	}
	if progress != nil {
		progress(0, len(objs))
	}
	const workers, batchSize = 8, 500
	type result struct {
		facts      []Fact
		unreadable string
		err        error
	}
	keys := make(chan string)
	results := make(chan result)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range keys {
				facts, bad, err := readState(ctx, store, key)
				select {
				case results <- result{facts: facts, unreadable: bad, err: err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(keys)
		for _, o := range objs {
			select {
			case keys <- o.Key:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var b Batch
	read := 0
	flush := func() error {
		if len(b.Facts) == 0 && len(b.Unreadable) == 0 {
			return nil
		}
		_, err := s.Apply(ctx, b)
		b = Batch{}
		return err
	}
	for r := range results {
		if r.err != nil {
			return read, r.err
		}
		read++
		b.Facts = append(b.Facts, r.facts...)
		if r.unreadable != "" {
			b.Unreadable = append(b.Unreadable, r.unreadable)
		}
		if len(b.Facts) >= batchSize {
			if err := flush(); err != nil {
				return read, fmt.Errorf("rebuild: %w", err)
			}
			if progress != nil {
				progress(read, len(objs))
			}
		}
	}
	if err := flush(); err != nil {
		return read, fmt.Errorf("rebuild: %w", err)
	}
	dtes, err := store.List(ctx, archive.PrefixDTE)
	if err != nil {
		return read, fmt.Errorf("rebuild: list %s: %w", archive.PrefixDTE, err)
	}
	if b = signedOnly(dtes, objs); len(b.Facts) > 0 || len(b.Unreadable) > 0 {
		if _, err := s.Apply(ctx, b); err != nil {
			return read, fmt.Errorf("rebuild: %w", err)
		}
	}
	if progress != nil {
		progress(read, len(objs))
	}
	return read, nil
}

// readState reads one state object as facts. A state that cannot be read
// comes back as the reason (unreadable); a failure to reach the store is
// an error.
func readState(ctx context.Context, store archive.Store, key string) ([]Fact, string, error) {
	k, err := stateKey(key)
	if err != nil {
		return nil, err.Error(), nil
	}
	obj, err := store.Get(ctx, key)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, "", nil // deleted since the listing
	}
	if err != nil {
		return nil, "", fmt.Errorf("rebuild: read %s: %w", key, err)
	}
	facts, err := StateFacts(k, obj.Body)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", key, err), nil
	}
	return facts, "", nil
}

// stateKey reads the dtekey back from state/{rut}/{type}/{folio}.json.
func stateKey(key string) (dtekey.Key, error) {
	return documentKey(key, archive.PrefixState, ".json", "state", archive.StateObjectKey)
}

// dteKey reads the dtekey back from dte/{rut}/{type}/{folio}.xml.
func dteKey(key string) (dtekey.Key, error) {
	return documentKey(key, archive.PrefixDTE, ".xml", "DTE", archive.DTEObjectKey)
}

// documentKey reads the dtekey back from {prefix}{rut}/{type}/{folio}{ext},
// a key canon would give (what: the object's kind, for the error).
func documentKey(key, prefix, ext, what string, canon func(dtekey.Key) (string, error)) (dtekey.Key, error) {
	rest, _ := strings.CutPrefix(key, prefix)
	rest, ok := strings.CutSuffix(rest, ext)
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return dtekey.Key{}, fmt.Errorf("%s: not a %s key (%s{rut}/{type}/{folio}%s)", key, what, prefix, ext)
	}
	typ, err1 := strconv.Atoi(parts[1])
	folio, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return dtekey.Key{}, fmt.Errorf("%s: type and folio must be numbers", key)
	}
	k, err := dtekey.New(parts[0], typ, folio)
	if err != nil {
		return dtekey.Key{}, fmt.Errorf("%s: %w", key, err)
	}
	if c, err := canon(k); err != nil || c != key {
		return dtekey.Key{}, fmt.Errorf("%s: not a canonical %s key", key, what)
	}
	return k, nil
}

// signedOnly is what the archive shows of documents that sign archived and
// submit has recorded nothing of yet (sign writes no state; submit's first
// write creates it): signed, at the DTE's time, from the listings alone.
// A key under dte/ that is not a DTE's is unreadable.
func signedOnly(dtes, states []archive.ObjectInfo) Batch {
	stated := make(map[dtekey.Key]bool, len(states))
	for _, o := range states {
		if k, err := stateKey(o.Key); err == nil {
			stated[k] = true
		}
	}
	var b Batch
	for _, o := range dtes {
		k, err := dteKey(o.Key)
		switch {
		case err != nil:
			b.Unreadable = append(b.Unreadable, err.Error())
		case stated[k]: // its state's history tells more
		case o.LastModified.IsZero():
			b.Unreadable = append(b.Unreadable, o.Key+": the listing gives no time for it")
		default:
			at := o.LastModified.UTC()
			b.Facts = append(b.Facts, Fact{
				ID:   "archive:" + k.String() + ":dte:" + archive.StatusSigned + ":" + at.Format(time.RFC3339Nano),
				Kind: KindArchive, Key: k, At: at, Status: archive.StatusSigned, Detail: "signed DTE " + o.Key,
				ArchiveKey: o.Key,
			})
		}
	}
	return b
}

// StateFacts reads an archived state (JSON) as facts: one per history
// entry, carrying the state's keys and SII answer.
func StateFacts(k dtekey.Key, body []byte) ([]Fact, error) {
	var st archive.State
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("not a state: %w", err)
	}
	if st.DTEKey != k.String() {
		return nil, fmt.Errorf("state of %q stored under %s", st.DTEKey, k)
	}
	history := st.History
	if len(history) == 0 && st.Status != "" {
		history = []archive.Entry{{At: st.UpdatedAt, Status: st.Status}}
	}
	var out []Fact
	for i, e := range history {
		if !archive.ValidStatus(e.Status) {
			return nil, fmt.Errorf("history[%d]: status %q is not one of the pipeline's", i, e.Status)
		}
		if e.At.IsZero() {
			return nil, fmt.Errorf("history[%d]: no time", i)
		}
		out = append(out, Fact{
			ID:   "archive:" + k.String() + ":" + strconv.Itoa(i) + ":" + e.Status + ":" + e.At.UTC().Format(time.RFC3339Nano),
			Kind: KindArchive, Key: k, At: e.At.UTC(), Status: e.Status, Detail: e.Detail,
			ArchiveKey: st.ArchiveKey, EnvioKey: st.EnvioKey, TrackID: st.TrackID, SIIState: st.SIIState,
			Attempt: st.Checks,
		})
	}
	return out, nil
}

package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
)

// contentTypeJSON is the content type of state objects.
const contentTypeJSON = "application/json"

// LoadState reads the state of k with its version (the object's ETag).
// A document the archive knows nothing about is ErrNotFound.
func (a *Archive) LoadState(ctx context.Context, k dtekey.Key) (State, string, error) {
	key, err := StateObjectKey(k)
	if err != nil {
		return State{}, "", err
	}
	obj, err := a.getConsistent(ctx, key)
	if err != nil {
		return State{}, "", fmt.Errorf("load state %s: %w", k, err)
	}
	st, err := decodeState(k, obj.Body)
	if err != nil {
		return State{}, "", err
	}
	return st, obj.ETag, nil
}

// UpdateState is a read-modify-write of the state of k that never silently
// loses an update: it reads the state (a new document starts from a zero
// State with DTEKey set), calls fn on a copy, and writes the result only if
// nobody wrote in between (If-None-Match: * for the first write, If-Match
// on the ETag it read after that). When another writer got there first it
// reads again and calls fn again, a few times with jittered backoff, then
// gives up with ErrConflict.
//
// So fn may run more than once and must be a function of the state it is
// given only. It returns ErrNoUpdate to write nothing (UpdateState then
// returns the current state and nil), or another error to abort (returned
// wrapped). UpdateState sets DTEKey and UpdatedAt itself.
func (a *Archive) UpdateState(ctx context.Context, k dtekey.Key, fn func(*State) error) (State, error) {
	key, err := StateObjectKey(k)
	if err != nil {
		return State{}, err
	}
	// Known before the read: the probe also says how to trust its ETag.
	caps, err := a.caps.forWrite(ctx)
	if err != nil {
		return State{}, fmt.Errorf("update state %s: %w", k, err)
	}
	for attempt := 1; ; attempt++ {
		cur, etag, err := a.readState(ctx, k, key)
		if err != nil {
			return State{}, err
		}
		next := cur.clone()
		if err := fn(&next); err != nil {
			if errors.Is(err, ErrNoUpdate) {
				return cur, nil
			}
			return State{}, fmt.Errorf("update state %s: %w", k, err)
		}
		next.DTEKey = k.String()
		next.UpdatedAt = a.now().UTC()
		if next.Status != "" && !ValidStatus(next.Status) {
			return State{}, errs.Permanentf("update state %s: unknown status %q", k, next.Status)
		}
		body, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return State{}, errs.Permanentf("update state %s: encode: %w", k, err)
		}
		body = append(body, '\n')
		err = a.writeState(ctx, caps, key, body, etag)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrExists) && !errors.Is(err, ErrNotFound) {
			return State{}, fmt.Errorf("update state %s: %w", k, err)
		}
		// A conditional PUT whose answer was lost is retried by the SDK
		// and then refused, although our own write is the one in place:
		// recognise our bytes instead of applying fn a second time.
		if obj, gerr := a.store.Get(ctx, key); gerr == nil && bytes.Equal(obj.Body, body) {
			return next, nil
		}
		if attempt >= a.maxAttempts {
			return State{}, fmt.Errorf("update state %s: gave up after %d attempts: %w", k, attempt, err)
		}
		a.log.Debug("archive: state changed by another writer, retrying", "dtekey", k.String(), "attempt", attempt)
		if err := sleep(ctx, a.retryDelay(attempt)); err != nil {
			return State{}, fmt.Errorf("update state %s: %w", k, err)
		}
	}
}

// readState is LoadState for UpdateState: a missing state is a fresh one,
// with an empty version.
func (a *Archive) readState(ctx context.Context, k dtekey.Key, key string) (State, string, error) {
	obj, err := a.getConsistent(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return State{DTEKey: k.String(), History: []Entry{}}, "", nil
	}
	if err != nil {
		return State{}, "", fmt.Errorf("update state %s: %w", k, err)
	}
	st, err := decodeState(k, obj.Body)
	if err != nil {
		return State{}, "", err
	}
	return st, obj.ETag, nil
}

// writeState writes with the condition that makes the update safe, or,
// on a server found to ignore it, writes and reads back (see
// WithCapabilities). The body's sha256 goes along as metadata: with it a
// read can tell a whole object from a torn one when the ETag is opaque.
func (a *Archive) writeState(ctx context.Context, caps Capabilities, key string, body []byte, etag string) error {
	opts := PutOptions{ContentType: contentTypeJSON, Metadata: map[string]string{MetaSHA256: Digest(body)}}
	var unguarded bool
	if etag == "" {
		opts.IfNoneMatch = "*"
		unguarded = !caps.IfNoneMatch
	} else {
		opts.IfMatch = etag
		unguarded = !caps.IfMatch
	}
	if !unguarded {
		_, err := a.put(ctx, key, body, opts)
		return err
	}
	cur, err := a.store.Get(ctx, key)
	switch {
	case etag == "" && err == nil:
		return fmt.Errorf("%s: %w", key, ErrExists)
	case etag != "" && err == nil && cur.ETag != etag:
		return fmt.Errorf("%s: %w", key, ErrConflict)
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	opts.IfMatch, opts.IfNoneMatch = "", ""
	if _, err := a.put(ctx, key, body, opts); err != nil {
		return err
	}
	back, err := a.store.Get(ctx, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(back.Body, body) {
		return fmt.Errorf("%s: overwritten right after our write: %w", key, ErrConflict)
	}
	return nil
}

// put is store.Put that learns from the ETag the server answered what its
// ETags are (see capState.observeWrite).
func (a *Archive) put(ctx context.Context, key string, body []byte, opts PutOptions) (string, error) {
	etag, err := a.store.Put(ctx, key, body, opts)
	if err == nil {
		a.caps.observeWrite(key, body, etag)
	}
	return etag, err
}

// retryDelay is exponential backoff with full jitter, capped at 200 ms:
// contention on one document is between a handful of instances.
func (a *Archive) retryDelay(attempt int) time.Duration {
	d := a.backoff << min(attempt, 6)
	d = min(d, 200*time.Millisecond)
	return rand.N(d) + a.backoff
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func decodeState(k dtekey.Key, body []byte) (State, error) {
	var st State
	if err := json.Unmarshal(body, &st); err != nil {
		return State{}, errs.Permanent(fmt.Errorf("state %s: %w: %w", k, ErrCorruptState, err))
	}
	if st.DTEKey != k.String() {
		return State{}, errs.Permanent(fmt.Errorf("state %s: %w: it names dtekey %q", k, ErrCorruptState, st.DTEKey))
	}
	if st.History == nil {
		st.History = []Entry{}
	}
	return st, nil
}

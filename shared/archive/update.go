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

// DocumentState is where document k stands: its state, or, for a DTE that
// sign archived and nothing has been recorded of since (sign writes no
// state; submit's first write creates it), a signed state read from the
// DTE's metadata. ErrNotFound when the archive has neither.
func (a *Archive) DocumentState(ctx context.Context, k dtekey.Key) (State, error) {
	st, _, err := a.LoadState(ctx, k)
	if !errors.Is(err, ErrNotFound) {
		return st, err
	}
	digest, err := a.DTERequest(ctx, k)
	if err != nil {
		return State{}, err
	}
	key, err := DTEObjectKey(k)
	if err != nil {
		return State{}, err
	}
	return State{DTEKey: k.String(), Status: StatusSigned, RequestDigest: digest, ArchiveKey: key}, nil
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
	v, err := a.UpdateStateFrom(ctx, k, nil, fn)
	return v.State, err
}

// Version is a document's state with the ETag of the object that holds
// it; an empty ETag means "no state yet". An event carries the version its
// stage wrote (events.StateSeed), so that the next stage's update starts
// from it instead of reading the object again.
type Version struct {
	State State
	ETag  string
}

// UpdateStateFrom is UpdateState starting from a version believed current
// (nil: read it). Its first write is conditional on that version's ETag
// (If-None-Match: * for "no state yet"), so a version that is no longer
// current costs one refused write and the update then goes on as
// UpdateState's, reading the state and calling fn again. The answer is the
// version now stored (the one fn left alone when it returned ErrNoUpdate).
func (a *Archive) UpdateStateFrom(ctx context.Context, k dtekey.Key, from *Version, fn func(*State) error) (Version, error) {
	key, err := StateObjectKey(k)
	if err != nil {
		return Version{}, err
	}
	// Known before the read: the probe also says how to trust its ETag.
	caps, err := a.caps.forWrite(ctx)
	if err != nil {
		return Version{}, fmt.Errorf("update state %s: %w", k, err)
	}
	seed := from
	for attempt := 1; ; attempt++ {
		var cur State
		var etag string
		switch {
		case seed != nil && seed.ETag == "":
			cur = State{DTEKey: k.String(), History: []Entry{}}
		case seed != nil:
			cur, etag = seed.State, seed.ETag
		default:
			if cur, etag, err = a.readState(ctx, k, key); err != nil {
				return Version{}, err
			}
		}
		next := cur.clone()
		if err := fn(&next); err != nil {
			if errors.Is(err, ErrNoUpdate) && seed != nil {
				// Nothing to write to a version not proved current: read
				// the stored one and ask fn again.
				seed = nil
				continue
			}
			if errors.Is(err, ErrNoUpdate) {
				return Version{State: cur, ETag: etag}, nil
			}
			return Version{}, fmt.Errorf("update state %s: %w", k, err)
		}
		next.DTEKey = k.String()
		next.UpdatedAt = a.now().UTC()
		if next.Status != "" && !ValidStatus(next.Status) {
			return Version{}, errs.Permanentf("update state %s: unknown status %q", k, next.Status)
		}
		body, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return Version{}, errs.Permanentf("update state %s: encode: %w", k, err)
		}
		body = append(body, '\n')
		newTag, err := a.writeState(ctx, caps, key, body, etag)
		if err == nil {
			return Version{State: next, ETag: newTag}, nil
		}
		if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrExists) && !errors.Is(err, ErrNotFound) {
			return Version{}, fmt.Errorf("update state %s: %w", k, err)
		}
		// A conditional PUT whose answer was lost is retried by the SDK
		// and then refused, although our own write is the one in place:
		// recognise our bytes instead of applying fn a second time.
		if obj, gerr := a.store.Get(ctx, key); gerr == nil && bytes.Equal(obj.Body, body) {
			return Version{State: next, ETag: obj.ETag}, nil
		}
		if attempt >= a.maxAttempts {
			return Version{}, fmt.Errorf("update state %s: gave up after %d attempts: %w", k, attempt, err)
		}
		if seed != nil {
			seed = nil
			continue // the version given was not current: read it, no contention to wait out
		}
		a.log.Debug("archive: state changed by another writer, retrying", "dtekey", k.String(), "attempt", attempt)
		if err := sleep(ctx, a.retryDelay(attempt)); err != nil {
			return Version{}, fmt.Errorf("update state %s: %w", k, err)
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
func (a *Archive) writeState(ctx context.Context, caps Capabilities, key string, body []byte, etag string) (string, error) {
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
		return a.put(ctx, key, body, opts)
	}
	cur, err := a.store.Get(ctx, key)
	switch {
	case etag == "" && err == nil:
		return "", fmt.Errorf("%s: %w", key, ErrExists)
	case etag != "" && err == nil && cur.ETag != etag:
		return "", fmt.Errorf("%s: %w", key, ErrConflict)
	case err != nil && !errors.Is(err, ErrNotFound):
		return "", err
	}
	opts.IfMatch, opts.IfNoneMatch = "", ""
	if _, err := a.put(ctx, key, body, opts); err != nil {
		return "", err
	}
	back, err := a.store.Get(ctx, key)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(back.Body, body) {
		return "", fmt.Errorf("%s: overwritten right after our write: %w", key, ErrConflict)
	}
	return back.ETag, nil
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

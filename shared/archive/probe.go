package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ProbePrefix is where ProbeConditionalWrites writes (and then deletes) its
// scratch object.
const ProbePrefix = "_probe/"

// VersionPurger is a Store that can remove every version of the objects
// under a prefix, delete markers included (S3 on a versioned bucket, where
// Delete only adds a delete marker). The probe uses it to leave nothing
// behind.
type VersionPurger interface {
	PurgeVersions(ctx context.Context, prefix string) error
}

// probeCleanupTimeout bounds the removal of the probe's object.
const probeCleanupTimeout = 10 * time.Second

// Capabilities says which conditional writes the server honours.
type Capabilities struct {
	IfNoneMatch bool // PutObject with If-None-Match: * refuses an existing key
	IfMatch     bool // PutObject with If-Match refuses a stale ETag
	// MD5ETags: a single-part object's ETag is the hex MD5 of its body,
	// which lets reads detect a torn ETag/body pair (see getConsistent).
	// False on SSE-KMS and SSE-C buckets (AWS, MinIO), whose ETags are
	// opaque.
	MD5ETags bool
}

// ProbeConditionalWrites finds out, with a scratch object under
// ProbePrefix, whether the server honours If-None-Match: * and If-Match on
// PutObject, and whether its ETags are MD5s. Some S3-compatible servers
// silently ignore the conditions, which would turn create-only writes and
// UpdateState's compare-and-swap into blind overwrites. Call it once at
// start and pass the result to New with WithCapabilities (Open does), or
// let the archive probe by itself (WithProbe). An error means the probe
// itself failed (S3 unreachable, access denied): nothing is known then.
// When the server merely ignores a condition the error is nil and the
// field is false.
func ProbeConditionalWrites(ctx context.Context, store Store) (Capabilities, error) {
	// The key is new on every probe (several instances may probe at once);
	// the cleanup removes all it made.
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return Capabilities{}, fmt.Errorf("probe conditional writes: %w", err)
	}
	key := ProbePrefix + "conditional-writes-" + hex.EncodeToString(nonce[:]) + ".txt"
	defer func() {
		// Best effort: a leftover probe object is harmless, and the
		// caller's context may already be done. On a versioned bucket a
		// Delete would leave the probe's versions and a delete marker on
		// every start: remove each version instead.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeCleanupTimeout)
		defer cancel()
		if p, ok := store.(VersionPurger); ok {
			if p.PurgeVersions(ctx, key) == nil {
				return
			}
		}
		_ = store.Delete(ctx, key)
	}()
	var caps Capabilities
	etag, err := store.Put(ctx, key, []byte("1"), PutOptions{IfNoneMatch: "*"})
	if err != nil {
		return caps, fmt.Errorf("probe conditional writes: create %s: %w", key, err)
	}
	caps.MD5ETags = md5ETagMatches(Object{Body: []byte("1"), ETag: etag})
	switch _, err := store.Put(ctx, key, []byte("2"), PutOptions{IfNoneMatch: "*"}); {
	case errors.Is(err, ErrExists):
		caps.IfNoneMatch = true
	case err != nil:
		return caps, fmt.Errorf("probe conditional writes: If-None-Match: %w", err)
	default:
		// The write went through: read the ETag of what is there now.
		obj, err := store.Get(ctx, key)
		if err != nil {
			return caps, fmt.Errorf("probe conditional writes: %w", err)
		}
		etag = obj.ETag
	}
	stale := `"00000000000000000000000000000000"`
	switch _, err := store.Put(ctx, key, []byte("3"), PutOptions{IfMatch: stale}); {
	case errors.Is(err, ErrConflict):
		// A stale ETag is refused; the current one must be accepted too.
		if _, err := store.Put(ctx, key, []byte("4"), PutOptions{IfMatch: etag}); err != nil {
			return caps, fmt.Errorf("probe conditional writes: If-Match with the current ETag: %w", err)
		}
		caps.IfMatch = true
	case err != nil:
		return caps, fmt.Errorf("probe conditional writes: If-Match: %w", err)
	}
	return caps, nil
}

// Err is nil when both conditions are honoured (MD5ETags is a bonus), else ErrNoConditionalWrites
// naming the missing ones: for a function that prefers to refuse to start.
func (c Capabilities) Err() error {
	switch {
	case !c.IfMatch && !c.IfNoneMatch:
		return fmt.Errorf("%w: If-Match and If-None-Match", ErrNoConditionalWrites)
	case !c.IfMatch:
		return fmt.Errorf("%w: If-Match", ErrNoConditionalWrites)
	case !c.IfNoneMatch:
		return fmt.Errorf("%w: If-None-Match", ErrNoConditionalWrites)
	}
	return nil
}

package archive

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Bounds of getConsistent's re-reads: a torn read lasts as long as one
// PUT's publication on the server, milliseconds.
const (
	tornReadFirstDelay = time.Millisecond
	tornReadMaxDelay   = 100 * time.Millisecond
	tornReadBudget     = 2 * time.Second
)

// getConsistent is Get for a read whose ETag will be used in If-Match: it
// makes sure the ETag belongs to the body it came with.
//
// Why: a server may read an object's ETag and its data at two moments. A
// GET racing a PUT can then return the new ETag with the old body, and a
// compare-and-swap on that ETag succeeds although the update was computed
// from stale data, silently losing the other writer's update. versitygw
// v1.8.0 does exactly this with --sidecar metadata: the ETag lands in the
// sidecar before the data file is published, and GETs in between (seen
// lasting several milliseconds) pair the new ETag with the old body. The
// concurrent UpdateState test loses updates there without this check.
//
// When the server's ETags are MD5s of the body (Capabilities.MD5ETags:
// versitygw, gofakes3, MinIO, AWS without SSE-KMS), a mismatch is a torn
// read: read again, with a short backoff, until they agree. Otherwise
// nothing can be checked and the first read is taken.
func (a *Archive) getConsistent(ctx context.Context, key string) (Object, error) {
	delay := tornReadFirstDelay
	deadline := time.Now().Add(tornReadBudget)
	for {
		obj, err := a.store.Get(ctx, key)
		if err != nil {
			return Object{}, err
		}
		if !a.caps.MD5ETags || md5ETagMatches(obj) {
			return obj, nil
		}
		if time.Now().After(deadline) {
			return Object{}, fmt.Errorf("%s: ETag %s is not the MD5 of the body read with it, for %v: "+
				"a write stuck half-way, or a server whose ETags are not MD5s (run ProbeConditionalWrites and pass WithCapabilities)",
				key, obj.ETag, tornReadBudget)
		}
		a.log.Debug("archive: ETag does not match the body read with it, reading again", "key", key, "etag", obj.ETag)
		if err := sleep(ctx, delay); err != nil {
			return Object{}, err
		}
		delay = min(2*delay, tornReadMaxDelay)
	}
}

// md5ETagMatches reports whether the object's ETag is the MD5 of its body.
func md5ETagMatches(obj Object) bool {
	sum := md5.Sum(obj.Body)
	return strings.EqualFold(strings.Trim(obj.ETag, `"`), hex.EncodeToString(sum[:]))
}

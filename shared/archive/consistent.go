package archive

import (
	"bytes"
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
// v1.8.0 does exactly this with --sidecar metadata: it stores the new ETag,
// then the new user metadata, then publishes the data file, and GETs in
// between (seen lasting several milliseconds) pair the new ETag with the
// old body. The concurrent UpdateState test loses updates there without
// this check.
//
// What counts as evidence that the pair is whole, strongest first:
//   - the ETag is the MD5 of the body (single-part PUTs on versitygw,
//     MinIO, gofakes3, AWS without SSE-KMS);
//   - the server is known to give MD5 ETags (probed, or learnt from the
//     answer to the archive's own last write) and this one is a plain
//     32-hex ETag that is not the body's MD5: that is a torn read, read
//     again (on versitygw the user metadata may still be the old one then,
//     so the sha256 below would not notice);
//   - otherwise the ETag is opaque (SSE-KMS or SSE-C, a multipart upload's
//     "…-N", a server of its own kind): the sha256 metadata the archive
//     writes with every object must be the body's digest, and an object
//     without it (written by another tool, or by an older version of the
//     archive) must read the same twice in a row. While nothing at all is
//     known about the server's ETags (no probe, no write yet), both.
//
// A pair that stays the same for the whole budget is not torn: a plain
// ETag that is not an MD5 on an MD5 server (an object another tool wrote
// with SSE-KMS) is then accepted, with a warning. Anything else that does
// not settle within the budget is an error.
func (a *Archive) getConsistent(ctx context.Context, key string) (Object, error) {
	delay := tornReadFirstDelay
	deadline := time.Now().Add(tornReadBudget)
	var prev *Object
	for {
		obj, err := a.store.Get(ctx, key)
		if err != nil {
			return Object{}, err
		}
		kind := a.caps.etagKind()
		same := prev != nil && prev.ETag == obj.ETag && bytes.Equal(prev.Body, obj.Body)
		verdict := wholePair(obj, kind, same)
		if verdict == "" {
			return obj, nil
		}
		if time.Now().After(deadline) {
			if same && sha256Agrees(obj) {
				a.log.Warn("archive: an ETag is not the MD5 of its body on a server whose ETags are MD5s, and it did not change for "+
					tornReadBudget.String()+"; taken as opaque (an object written with SSE-KMS or SSE-C?)", "key", key, "etag", obj.ETag)
				return obj, nil
			}
			return Object{}, fmt.Errorf("%s: the ETag %s and the body read with it do not agree (%s) after %v: a write stuck half-way, or an object changed outside the archive",
				key, obj.ETag, verdict, tornReadBudget)
		}
		a.log.Debug("archive: ETag and body not shown to belong together, reading again", "key", key, "etag", obj.ETag, "why", verdict)
		if err := sleep(ctx, delay); err != nil {
			return Object{}, err
		}
		delay = min(2*delay, tornReadMaxDelay)
		prev = &obj
	}
}

// wholePair says why obj's ETag and body are not shown to belong together,
// "" when they are. kind is what is known of the server's ETags;
// sameAsBefore: the previous read returned the same ETag and body.
func wholePair(obj Object, kind etagKind, sameAsBefore bool) string {
	if md5ETagMatches(obj) {
		return ""
	}
	if kind == etagsMD5 && plainETag(obj.ETag) {
		return "the ETag is not the MD5 of the body"
	}
	_, hasSHA := obj.Metadata[MetaSHA256]
	switch {
	case hasSHA && !sha256Agrees(obj):
		return "the sha256 metadata is not the digest of the body"
	case hasSHA && kind != etagsUnknown:
		return ""
	case !sameAsBefore:
		return "opaque ETag: reading twice"
	}
	return ""
}

// sha256Agrees reports whether the object's sha256 metadata, when it has
// one, is the digest of its body.
func sha256Agrees(obj Object) bool {
	sum, ok := obj.Metadata[MetaSHA256]
	return !ok || strings.EqualFold(sum, Digest(obj.Body))
}

// md5ETagMatches reports whether the object's ETag is the MD5 of its body.
func md5ETagMatches(obj Object) bool {
	sum := md5.Sum(obj.Body)
	return strings.EqualFold(strings.Trim(obj.ETag, `"`), hex.EncodeToString(sum[:]))
}

// plainETag reports whether an ETag has the form of an MD5 (32 hex digits,
// quoted or not). A multipart upload's "<hex>-<parts>" is not plain; an
// SSE-KMS ETag is plain but not the MD5 of the body.
func plainETag(etag string) bool {
	e := strings.Trim(etag, `"`)
	if len(e) != 2*md5.Size {
		return false
	}
	_, err := hex.DecodeString(e)
	return err == nil
}

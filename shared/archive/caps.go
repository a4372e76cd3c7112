package archive

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// reprobeInterval is the least time between two probes after a failed one:
// every write asks again, but a server that is down is not probed more than
// once a second however many writes wait for it.
const reprobeInterval = time.Second

// condSource says where the archive's idea of the server's conditional
// writes comes from.
type condSource int

const (
	// condAssumed: nobody probed; the caller (New without options, or a
	// function started with S3_PROBE=false) vouches that the server honours
	// If-Match and If-None-Match.
	condAssumed condSource = iota
	// condProbed: ProbeConditionalWrites ran against this store, or the
	// caller passed its result (WithCapabilities).
	condProbed
	// condUnknown: a probe was asked for and has not succeeded yet. Writes
	// probe again first and fail (transient) while the probe fails.
	condUnknown
)

// etagKind is what the archive knows about the server's ETags.
type etagKind int

const (
	etagsUnknown etagKind = iota // nothing probed or written yet
	etagsMD5                     // a single-part PUT's ETag is the MD5 of its body
	etagsOpaque                  // it is not (SSE-KMS, SSE-C, a server of its own kind)
)

func (k etagKind) String() string {
	switch k {
	case etagsMD5:
		return "md5"
	case etagsOpaque:
		return "opaque"
	}
	return "unknown"
}

// capState is what the archive knows about the server's conditional writes
// and ETags, and how to find out when it does not know yet. It is safe for
// concurrent use.
type capState struct {
	mu     sync.Mutex
	caps   Capabilities // IfNoneMatch and IfMatch; MD5ETags is in etags
	source condSource
	// etags is learnt from the probe and then from every write's answer:
	// the ETag a PUT returns is the server's word for the bytes just sent,
	// so a bucket whose encryption changes is noticed at its next write.
	etags etagKind
	// lastTry and lastErr are the last failed probe, for reprobeInterval.
	lastTry time.Time
	lastErr error

	// probe finds the capabilities out; nil when nobody asked for a probe.
	probe func(context.Context) (Capabilities, error)
	// sem lets one probe run at a time; the others wait for its result.
	sem chan struct{}
	log *slog.Logger
}

// WithProbe makes the archive find the server's capabilities out itself:
// before its first write, and again before later writes for as long as the
// probe fails (at most once per second). Until a probe succeeds every write
// fails with the probe's error, which is transient: nothing is written on
// the strength of an assumption. Open uses it when the probe at start
// could not run (S3 unreachable while a function scaled from zero).
func WithProbe() Option {
	return func(a *Archive) {
		store := a.store
		a.caps.source = condUnknown
		a.caps.probe = func(ctx context.Context) (Capabilities, error) { return ProbeConditionalWrites(ctx, store) }
	}
}

// setProbed records probed capabilities and logs them: an operator reads
// there which fallbacks, if any, the archive uses.
func (c *capState) setProbed(caps Capabilities, again bool) {
	c.mu.Lock()
	c.caps, c.source, c.lastErr = caps, condProbed, nil
	c.etags = etagsOpaque
	if caps.MD5ETags {
		c.etags = etagsMD5
	}
	c.mu.Unlock()
	logCapabilities(c.log, caps, again)
}

// logCapabilities writes one line with what a probe found.
func logCapabilities(log *slog.Logger, caps Capabilities, again bool) {
	when := "start"
	if again {
		when = "probed again"
	}
	attrs := []any{"if_none_match", caps.IfNoneMatch, "if_match", caps.IfMatch, "md5_etags", caps.MD5ETags, "when", when}
	if caps.Err() != nil {
		log.Warn("archive: the S3 server does not honour all conditional writes; concurrent writers can lose updates", attrs...)
		return
	}
	etags := "ETags are the MD5 of the body"
	if !caps.MD5ETags {
		etags = "ETags are opaque (SSE-KMS, SSE-C or a server of its own kind): reads are checked with the sha256 metadata"
	}
	log.Info("archive: S3 capabilities: If-None-Match and If-Match honoured; "+etags, attrs...)
}

// etagKind is what is known about the server's ETags now.
func (c *capState) etagKind() etagKind {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.etags
}

// observeWrite learns from the ETag a PUT of body returned. A multipart
// or empty ETag says nothing about single-part PUTs.
func (c *capState) observeWrite(key string, body []byte, etag string) {
	if !plainETag(etag) {
		return
	}
	kind := etagsOpaque
	if sum := md5.Sum(body); strings.EqualFold(strings.Trim(etag, `"`), hex.EncodeToString(sum[:])) {
		kind = etagsMD5
	}
	c.mu.Lock()
	was := c.etags
	c.etags = kind
	c.mu.Unlock()
	if was != kind && was != etagsUnknown {
		c.log.Info("archive: the S3 server's ETags changed kind (was the bucket's encryption changed?)",
			"was", was.String(), "now", kind.String(), "key", key)
	}
}

// forWrite returns the conditions a write goes by: the probed ones, the
// assumed ones (both honoured), or, when a probe is pending, the result of
// probing now. A failed probe is the error.
func (c *capState) forWrite(ctx context.Context) (Capabilities, error) {
	c.mu.Lock()
	caps, source := c.caps, c.source
	c.mu.Unlock()
	switch source {
	case condProbed:
		return caps, nil
	case condAssumed:
		return Capabilities{IfNoneMatch: true, IfMatch: true}, nil
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Capabilities{}, ctx.Err()
	}
	defer func() { <-c.sem }()
	c.mu.Lock()
	caps, source, lastTry, lastErr := c.caps, c.source, c.lastTry, c.lastErr
	c.mu.Unlock()
	if source == condProbed { // another writer's probe just succeeded
		return caps, nil
	}
	if lastErr != nil && time.Since(lastTry) < reprobeInterval {
		return Capabilities{}, c.unknown(lastErr)
	}
	caps, err := c.probe(ctx)
	if err != nil {
		c.mu.Lock()
		c.lastTry, c.lastErr = time.Now(), err
		c.mu.Unlock()
		c.log.Warn("archive: could not probe the S3 server's conditional writes; writes wait until a probe succeeds", "error", err)
		return Capabilities{}, c.unknown(err)
	}
	c.setProbed(caps, true)
	return caps, nil
}

func (c *capState) unknown(err error) error {
	return fmt.Errorf("the S3 server's conditional writes are not known yet (probed again before the next write): %w", err)
}

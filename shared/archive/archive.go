package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"
)

// Archive is the pipeline's view of the store: documents, envelopes, CAFs
// and document states. It is safe for concurrent use.
type Archive struct {
	store       Store
	log         *slog.Logger
	now         func() time.Time
	caps        Capabilities
	maxAttempts int
	backoff     time.Duration
}

// Option configures an Archive.
type Option func(*Archive)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(a *Archive) {
		if l != nil {
			a.log = l
		}
	}
}

// WithClock sets the clock for UpdatedAt (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(a *Archive) {
		if now != nil {
			a.now = now
		}
	}
}

// WithCapabilities tells the archive what the server was found to honour
// (see ProbeConditionalWrites). Without it all three capabilities are
// assumed, as on versitygw, MinIO, gofakes3 and AWS S3 without SSE-KMS.
// When the server ignores If-None-Match, create-only writes first read the
// key (a redelivery is still caught; two truly simultaneous writers are
// not). When it ignores If-Match, UpdateState reads its write back and
// retries when another writer's state is there (a lost update is then
// unlikely but still possible).
func WithCapabilities(c Capabilities) Option {
	return func(a *Archive) { a.caps = c }
}

// WithMaxUpdateAttempts bounds how many times UpdateState tries a
// conflicting read-modify-write (default 10).
func WithMaxUpdateAttempts(n int) Option {
	return func(a *Archive) {
		if n > 0 {
			a.maxAttempts = n
		}
	}
}

// New wraps a store.
func New(store Store, opts ...Option) *Archive {
	a := &Archive{
		store:       store,
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		caps:        Capabilities{IfNoneMatch: true, IfMatch: true, MD5ETags: true},
		maxAttempts: 10,
		backoff:     5 * time.Millisecond,
	}
	for _, o := range opts {
		o(a)
	}
	if !a.caps.IfMatch || !a.caps.IfNoneMatch {
		a.log.Warn("archive: the S3 server does not honour all conditional writes; concurrent writers can lose updates",
			"if_match", a.caps.IfMatch, "if_none_match", a.caps.IfNoneMatch)
	}
	return a
}

// Store is the underlying store.
func (a *Archive) Store() Store { return a.store }

// Digest is the hex SHA-256 of b, the digest events and states carry.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

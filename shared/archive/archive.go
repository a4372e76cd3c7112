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
	caps        capState
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

// WithCapabilities tells the archive what a probe found the server to
// honour (see ProbeConditionalWrites). Without it (and without WithProbe)
// the caller vouches that the server honours If-Match and If-None-Match, as
// versitygw, MinIO, gofakes3 and AWS S3 do, and nothing is assumed about
// ETags: a read is checked with the object's sha256 metadata or by reading
// twice (see getConsistent).
//
// When the server ignores If-None-Match, create-only writes first read the
// key (a redelivery is still caught; two truly simultaneous writers are
// not). When it ignores If-Match, UpdateState reads its write back and
// retries when another writer's state is there (a lost update is then
// unlikely but still possible).
func WithCapabilities(c Capabilities) Option {
	return func(a *Archive) {
		a.caps.caps, a.caps.source, a.caps.probe = c, condProbed, nil
		a.caps.etags = etagsOpaque
		if c.MD5ETags {
			a.caps.etags = etagsMD5
		}
	}
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
		caps:        capState{sem: make(chan struct{}, 1)},
		maxAttempts: 10,
		backoff:     5 * time.Millisecond,
	}
	for _, o := range opts {
		o(a)
	}
	a.caps.log = a.log
	if a.caps.source == condProbed {
		logCapabilities(a.log, a.caps.caps, false)
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

// Package errs classifies failures as permanent or transient, the one
// decision that drives retries everywhere (docs/design.md, "Delivery"):
//   - permanent: retrying cannot help (invalid request, folio outside every
//     CAF, a document the SII's rules refuse). The function turns it into
//     cl.dte.failed at once and answers 2xx.
//   - transient: anything else (network, timeouts, 5xx, an SII token that
//     expired). The function answers 503 and delivery is retried with backoff,
//     then dead-lettered.
//
// An error is transient unless something marked it permanent.
package errs

import (
	"errors"
	"fmt"
)

type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Permanent marks err as permanent. Wrapping it further with %w keeps the mark.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanent{err: err}
}

// Permanentf is fmt.Errorf for a permanent error.
func Permanentf(format string, args ...any) error {
	return &permanent{err: fmt.Errorf(format, args...)}
}

// IsPermanent reports whether err, or anything it wraps, was marked permanent.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}

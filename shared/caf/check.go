package caf

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/rut"
)

// expires reports whether CAFs of a document type expire six months after
// authorisation (FA), per the SII (docs/sii-protocol.md §5.1).
func expires(docType int) bool {
	switch docType {
	case 33, 43, 46, 56, 61:
		return true
	}
	return false
}

// ExpiresAt is when the CAF's folios can no longer be used: six months
// after FA (Chile time) for types 33, 43, 46, 56 and 61. ok is false for
// types whose CAFs do not expire.
func (c *CAF) ExpiresAt() (t time.Time, ok bool) {
	if !expires(c.Type) {
		return time.Time{}, false
	}
	return c.authDate.AddDate(0, 6, 0), true
}

// Expired reports whether the CAF has expired at t.
func (c *CAF) Expired(t time.Time) bool {
	exp, ok := c.ExpiresAt()
	return ok && !t.Before(exp)
}

// Check verifies that the CAF may stamp folio of docType for issuer.
func (c *CAF) Check(issuer rut.RUT, docType int, folio int64) error {
	switch {
	case c.Issuer != issuer:
		return fmt.Errorf("%s: %w (document issuer %s)", c, ErrWrongIssuer, issuer)
	case c.Type != docType:
		return fmt.Errorf("%s: %w (document type %d)", c, ErrWrongType, docType)
	case !c.Contains(folio):
		return fmt.Errorf("%s: %w (folio %d)", c, ErrFolioOutside, folio)
	}
	return nil
}

// Select picks the CAF that authorises folio of docType for issuer among
// several: a valid (not expired at t) CAF whose range holds the folio; if
// more than one does, the most recently authorised. The errors say what
// was available, so that the operator knows which CAF to load.
func Select(cafs []*CAF, issuer rut.RUT, docType int, folio int64, t time.Time) (*CAF, error) {
	var match, expired []*CAF
	for _, c := range cafs {
		if c == nil || c.Check(issuer, docType, folio) != nil {
			continue
		}
		if c.Expired(t) {
			expired = append(expired, c)
			continue
		}
		match = append(match, c)
	}
	if len(match) > 0 {
		slices.SortStableFunc(match, func(a, b *CAF) int { return b.authDate.Compare(a.authDate) })
		return match[0], nil
	}
	if len(expired) > 0 {
		exp, _ := expired[0].ExpiresAt()
		return nil, fmt.Errorf("type %d folio %d: %s: %w on %s", docType, folio, expired[0], ErrExpired, exp.Format(time.DateOnly))
	}
	if n := nonNil(cafs); len(n) == 1 {
		// One CAF given: say exactly what does not fit.
		return nil, fmt.Errorf("issuer %s type %d folio %d: %w: %w", issuer, docType, folio, ErrNoCAF, n[0].Check(issuer, docType, folio))
	}
	var have []string
	for _, c := range cafs {
		if c != nil {
			have = append(have, fmt.Sprintf("%s type %d folios %d-%d", c.Issuer, c.Type, c.From, c.To))
		}
	}
	avail := "no CAFs loaded"
	if len(have) > 0 {
		avail = "loaded: " + strings.Join(have, "; ")
	}
	return nil, fmt.Errorf("issuer %s type %d folio %d: %w (%s)", issuer, docType, folio, ErrNoCAF, avail)
}

func nonNil(cafs []*CAF) []*CAF {
	var out []*CAF
	for _, c := range cafs {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

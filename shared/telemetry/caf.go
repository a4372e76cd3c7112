package telemetry

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// CAFArchive is the archive as sign uses it, watched for what the CAF
// metrics need: the CAFs sign reads (their ranges and expiry) and the
// folios it signs (PutDTE, and GetDTE finding one signed already). It
// satisfies sign.Archive.
type CAFArchive struct {
	*archive.Archive
	cafs *cafTracker
}

// CAFs wraps a for sign: dte_caf_folios_remaining and
// dte_caf_expiry_timestamp_seconds per issuer and document type. Folios
// are used in order (Odoo's sequence), so what is left is what lies above
// the highest folio signed; an instance that has signed nothing of an
// issuer and type yet shows only the expiry.
func (t *Telemetry) CAFs(a *archive.Archive, now func() time.Time) CAFArchive {
	return CAFArchive{Archive: a, cafs: &cafTracker{m: t.M, now: now, groups: map[cafGroupKey]*cafGroup{}}}
}

// CAFs reads the CAFs and records their ranges and expiry.
func (a CAFArchive) CAFs(ctx context.Context, issuer rut.RUT, docType int) ([]archive.CAFFile, error) {
	files, err := a.Archive.CAFs(ctx, issuer, docType)
	if err == nil {
		a.cafs.read(issuer, docType, files)
	}
	return files, err
}

// PutDTE archives a signed DTE and records its folio as used.
func (a CAFArchive) PutDTE(ctx context.Context, k dtekey.Key, signed []byte, requestDigest string) (archive.Document, error) {
	d, err := a.Archive.PutDTE(ctx, k, signed, requestDigest)
	if err == nil {
		a.cafs.used(k)
	}
	return d, err
}

// GetDTE reads a signed DTE; one that exists has used its folio.
func (a CAFArchive) GetDTE(ctx context.Context, k dtekey.Key) (archive.Document, error) {
	d, err := a.Archive.GetDTE(ctx, k)
	if err == nil {
		a.cafs.used(k)
	}
	return d, err
}

type cafGroupKey struct {
	issuer  string
	docType int
}

type cafGroup struct {
	cafs    map[string]cafRange // by archive key
	highest int64               // highest folio signed; 0: none seen yet
}

type cafRange struct {
	from, to   int64
	expires    time.Time
	hasExpiry  bool
	sourceSize int // the file's size, to notice a replaced file
}

type cafTracker struct {
	m   *Metrics
	now func() time.Time

	mu     sync.Mutex
	groups map[cafGroupKey]*cafGroup
}

func (c *cafTracker) group(k cafGroupKey) *cafGroup {
	g, ok := c.groups[k]
	if !ok {
		g = &cafGroup{cafs: map[string]cafRange{}}
		c.groups[k] = g
	}
	return g
}

// read replaces the group's CAFs with files, parsing only those not seen.
func (c *cafTracker) read(issuer rut.RUT, docType int, files []archive.CAFFile) {
	key := cafGroupKey{issuer.String(), docType}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.group(key)
	next := make(map[string]cafRange, len(files))
	for _, f := range files {
		if r, ok := g.cafs[f.Key]; ok && r.sourceSize == len(f.Data) {
			next[f.Key] = r
			continue
		}
		parsed, err := caf.Parse(f.Data)
		if err != nil {
			continue // sign reports a bad CAF itself
		}
		exp, ok := parsed.ExpiresAt()
		next[f.Key] = cafRange{from: parsed.From, to: parsed.To, expires: exp, hasExpiry: ok, sourceSize: len(f.Data)}
	}
	g.cafs = next
	c.publish(key, g)
}

// used records a signed folio.
func (c *cafTracker) used(k dtekey.Key) {
	key := cafGroupKey{k.Issuer.String(), k.Type}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.group(key)
	if k.Folio <= g.highest {
		return
	}
	g.highest = k.Folio
	c.publish(key, g)
}

// publish sets the group's gauges: the folios left in unexpired CAFs
// (once a signed folio shows where the sequence is), and the expiry of
// the first unexpired CAF that still has folios.
func (c *cafTracker) publish(key cafGroupKey, g *cafGroup) {
	now := c.now()
	labels := []string{key.issuer, strconv.Itoa(key.docType)}
	var left int64
	var first time.Time
	for _, r := range g.cafs {
		if r.hasExpiry && !now.Before(r.expires) {
			continue
		}
		n := r.to - r.from + 1
		switch {
		case g.highest >= r.to:
			n = 0
		case g.highest >= r.from:
			n = r.to - g.highest
		}
		left += n
		if n > 0 && r.hasExpiry && (first.IsZero() || r.expires.Before(first)) {
			first = r.expires
		}
	}
	if g.highest > 0 && len(g.cafs) > 0 {
		c.m.CAFFoliosRemaining.WithLabelValues(labels...).Set(float64(left))
	}
	if first.IsZero() {
		c.m.CAFExpiry.DeleteLabelValues(labels...)
	} else {
		c.m.CAFExpiry.WithLabelValues(labels...).Set(float64(first.Unix()))
	}
}

// StatesArchive is an archive whose state reads are observed (submit's:
// see SentAges). It satisfies submit.Archive.
type StatesArchive struct {
	*archive.Archive
	Observe func(archive.State)
}

// LoadState reads a document's state and shows it to Observe.
func (a StatesArchive) LoadState(ctx context.Context, k dtekey.Key) (archive.State, string, error) {
	st, etag, err := a.Archive.LoadState(ctx, k)
	if err == nil && a.Observe != nil {
		a.Observe(st)
	}
	return st, etag, err
}

package dashboard

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/rut"
)

// CAFInfo is one archived CAF as the page shows it.
type CAFInfo struct {
	Key        string     `json:"key"`
	Issuer     string     `json:"issuer"`
	Type       int        `json:"type"`
	From       int64      `json:"from"`
	To         int64      `json:"to"`
	Authorized string     `json:"authorized,omitempty"` // FA
	Expires    *time.Time `json:"expires,omitempty"`    // nil: the type's CAFs do not expire
	Error      string     `json:"error,omitempty"`      // the file could not be read
	// Filled per page view from the projection:
	HighestUsed int64    `json:"highest_used"` // highest folio seen in the range (0: none)
	Left        int64    `json:"left"`         // folios after the highest used
	Warnings    []string `json:"warnings,omitempty"`

	issuer rut.RUT
}

// CAFList is the latest read of the archive's CAFs.
type CAFList struct {
	At    time.Time `json:"at"`
	CAFs  []CAFInfo `json:"cafs"`
	Error string    `json:"error,omitempty"`
}

// CAFWatch reads the archive's CAFs every interval (they change when an
// operator adds one with `dte caf add`).
type CAFWatch struct {
	store    archive.Store
	interval time.Duration
	log      *slog.Logger
	last     atomic.Pointer[CAFList]
}

// NewCAFWatch watches the CAFs of the archive in store.
func NewCAFWatch(store archive.Store, interval time.Duration, log *slog.Logger) *CAFWatch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &CAFWatch{store: store, interval: interval, log: log}
	w.last.Store(&CAFList{Error: "not read yet"})
	return w
}

// List is the latest read.
func (w *CAFWatch) List() CAFList { return *w.last.Load() }

// Run reads until ctx ends.
func (w *CAFWatch) Run(ctx context.Context) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		w.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Refresh reads the CAFs now.
func (w *CAFWatch) Refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	files, err := archive.New(w.store, archive.WithLogger(w.log)).ListCAFs(rctx, rut.RUT{}, 0)
	l := CAFList{At: time.Now().UTC()}
	if err != nil {
		l.Error = err.Error()
		if prev := w.last.Load(); prev != nil {
			l.CAFs = prev.CAFs // keep showing what was read before
		}
		w.last.Store(&l)
		return
	}
	for _, f := range files {
		info := CAFInfo{Key: f.Key, Issuer: f.Issuer.String(), Type: f.Type, From: f.From, To: f.To, issuer: f.Issuer}
		if c, err := caf.Parse(f.Data); err != nil {
			info.Error = err.Error()
		} else {
			info.Authorized = c.Authorized
			if exp, ok := c.ExpiresAt(); ok {
				info.Expires = &exp
			}
		}
		l.CAFs = append(l.CAFs, info)
	}
	w.last.Store(&l)
}

// Warning thresholds for CAFs.
type CAFWarnings struct {
	FoliosLeft int           // warn when fewer folios are left (FOLIO_WARNING)
	Expiry     time.Duration // warn when the CAF expires sooner (CAF_EXPIRY_WARNING)
}

// withUse fills each CAF's folios left from the projection, and warnings.
func withUse(ctx context.Context, s *Store, l CAFList, warn CAFWarnings, now time.Time) (CAFList, error) {
	out := l
	out.CAFs = make([]CAFInfo, len(l.CAFs))
	for i, c := range l.CAFs {
		hi, err := s.FolioUse(ctx, c.issuer, c.Type, c.From, c.To)
		if err != nil {
			return l, err
		}
		c.HighestUsed = hi
		c.Left = c.To - max(hi, c.From-1)
		c.Warnings = nil
		if c.Error != "" {
			c.Warnings = append(c.Warnings, "no se puede leer: "+c.Error)
		}
		switch {
		case c.Left == 0:
			c.Warnings = append(c.Warnings, "sin folios")
		case c.Left < int64(warn.FoliosLeft):
			c.Warnings = append(c.Warnings, "quedan pocos folios")
		}
		if c.Expires != nil {
			switch left := c.Expires.Sub(now); {
			case left <= 0:
				c.Warnings = append(c.Warnings, "vencido")
			case left <= warn.Expiry:
				c.Warnings = append(c.Warnings, "vence pronto")
			}
		}
		out.CAFs[i] = c
	}
	return out, nil
}

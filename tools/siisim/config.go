package siisim

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Defaults of a Config.
const (
	DefaultTokenTTL    = time.Hour
	DefaultSeedTTL     = 2 * time.Minute        // the SII's documented seed lifetime
	DefaultMaxFileSize = xmlsig.DefaultMaxBytes // what the verifier reads (no SII limit is published)
	DefaultTrackID     = 100000
)

// Config sets up a Server. The zero value of each field is a sensible
// default except Inspector, which is required.
type Config struct {
	// Inspector verifies seeds and envelopes, the schema included
	// (required; NewProjectInspector with Schemas).
	Inspector Inspector
	// Step is how long an upload stays in each processing state (REC, SOK,
	// CRT, FOK, PRD) before the next. Zero settles every upload at once.
	Step time.Duration
	// TokenTTL is how long a token stays valid (default 1 h).
	TokenTTL time.Duration
	// SeedTTL is how long a seed can be used (default 2 min).
	SeedTTL time.Duration
	// MaxFileSize bounds an upload (STATUS 2 above it; default 20 MiB).
	MaxFileSize int64
	// AcceptExpiredCertificates lets expired certificates authenticate
	// (the SII's own published test certificate expired in 2020).
	AcceptExpiredCertificates bool
	// Senders, when set, lists per company RUT the RUTs allowed to send
	// for it (STATUS 1 for others). Nil: anyone may send for anyone.
	Senders map[string][]string
	// Companies, when set, lists the companies authorised to send
	// (STATUS 6 for others). Nil: every company.
	Companies []string
	// TrackIDStart is the first TrackID (default 100000).
	TrackIDStart int64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per call (default: discard).
	Logger *slog.Logger
	// Faults are the faults in force at start.
	Faults Faults
}

func (c *Config) setDefaults() {
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.SeedTTL == 0 {
		c.SeedTTL = DefaultSeedTTL
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.TrackIDStart == 0 {
		c.TrackIDStart = DefaultTrackID
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// validate reports every configuration problem at once.
func (c *Config) validate() error {
	var problems []error
	if c.Inspector == nil {
		problems = append(problems, errors.New("Inspector is required"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Step", c.Step}, {"TokenTTL", c.TokenTTL}, {"SeedTTL", c.SeedTTL}} {
		if d.v < 0 {
			problems = append(problems, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if c.MaxFileSize < 0 {
		problems = append(problems, fmt.Errorf("MaxFileSize %d is negative", c.MaxFileSize))
	}
	for company, senders := range c.Senders {
		if _, err := rut.Parse(company); err != nil {
			problems = append(problems, fmt.Errorf("Senders: company %w", err))
		}
		for _, s := range senders {
			if _, err := rut.Parse(s); err != nil {
				problems = append(problems, fmt.Errorf("Senders[%s]: %w", company, err))
			}
		}
	}
	for _, company := range c.Companies {
		if _, err := rut.Parse(company); err != nil {
			problems = append(problems, fmt.Errorf("Companies: %w", err))
		}
	}
	if err := c.Faults.validate(); err != nil {
		problems = append(problems, fmt.Errorf("Faults: %w", err))
	}
	return errors.Join(problems...)
}

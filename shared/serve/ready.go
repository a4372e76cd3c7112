package serve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Check is one thing a function needs before it can do its work: the
// broker, the archive.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// ReadyChecks combines checks into Options.Ready. Each probe runs at most
// once per ttl, its answer cached in between (the platform probes often;
// the broker and the archive need not be asked each time), and the checks
// run at once. The error names every failing check. Liveness (/healthz,
// /_/health) does not use them: a function that cannot reach the broker is
// not ready, not dead.
func ReadyChecks(ttl time.Duration, checks ...Check) func(context.Context) error {
	cached := make([]*cachedCheck, len(checks))
	for i, c := range checks {
		cached[i] = &cachedCheck{Check: c, ttl: ttl}
	}
	return func(ctx context.Context) error {
		errs := make([]error, len(cached))
		var wg sync.WaitGroup
		for i, c := range cached {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.run(ctx)
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}

type cachedCheck struct {
	Check
	ttl time.Duration

	mu  sync.Mutex
	at  time.Time
	err error
}

func (c *cachedCheck) run(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.ttl {
		return c.err
	}
	err := c.Probe(ctx)
	if err != nil {
		err = fmt.Errorf("%s: %w", c.Name, err)
	}
	c.at, c.err = time.Now(), err
	return err
}

package delivery

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage"
)

// Retry is the two-tier retry of a stage's transient failures
// (docs/design.md, "Retries"). Delivery decides it per event, the same way
// under every platform, and keeps nothing in memory: the failed event goes
// back to the stage's own queue through the TTL delay queues, carrying its
// retry history (events.ExtRetries, events.ExtRetrySince).
//
//   - Fast tier: the first len(Fast)+1 attempts, Fast[i] apart (1 s, 5 s:
//     3 attempts, the pipeline's original promise). Odoo is not told.
//   - Slow tier: then Slow[0], Slow[1], ... apart (the last repeats), and
//     each wait is announced to Odoo as cl.dte.retrying, with the reason
//     and the next attempt's time.
//   - Budget: once the first failure is older than the budget, the event is
//     given up: 422, which every platform dead-letters at once (dte.dead →
//     notify → Odoo `error`, and dte.dead.parked for `dte dead replay`).
//     The last wait is shortened so that the last attempt comes when the
//     budget ends.
//
// A zero Retry (no tiers) leaves transient failures to the platform: 503.
type Retry struct {
	Fast   []time.Duration
	Slow   []time.Duration
	Budget time.Duration
	// Budgets overrides Budget for some event types (submit's status
	// checks retry until CHECK_DEADLINE).
	Budgets map[string]time.Duration
	// Tier rounds a wait up to what the broker will really wait (the delay
	// tiers, bus.TierFor), so that the time Odoo is told is the real one.
	// nil: the wait as asked.
	Tier func(time.Duration) time.Duration
}

// Enabled reports whether delivery retries itself (else the platform does).
func (r Retry) Enabled() bool { return len(r.Fast) > 0 || len(r.Slow) > 0 }

// Validate checks a retry policy read from the configuration.
func (r Retry) Validate() error {
	if !r.Enabled() {
		return nil
	}
	if len(r.Slow) == 0 {
		return errors.New("retry: no slow-tier delays (SLOW_RETRY_DELAYS)")
	}
	if r.Budget <= 0 {
		return errors.New("retry: the budget (RETRY_BUDGET) must be positive")
	}
	for typ, b := range r.Budgets {
		if b <= 0 {
			return fmt.Errorf("retry: the budget for %s must be positive", typ)
		}
	}
	return nil
}

// step is what the policy says about one more failure of an event.
type step struct {
	failures  int       // failed attempts, this one included
	since     time.Time // the first failure
	wait      time.Duration
	slow      bool      // the wait is in the slow tier: Odoo is told
	giveUpAt  time.Time // since + budget
	exhausted bool      // no more attempts: dead-letter it
}

// next applies the policy to event e failing now.
func (r Retry) next(e events.Event, now time.Time) step {
	failures, since := events.RetryOf(e)
	failures++
	if since.IsZero() || since.After(now) {
		since = now
	}
	budget := r.Budget
	if b, ok := r.Budgets[e.Type()]; ok {
		budget = b
	}
	s := step{failures: failures, since: since, giveUpAt: since.Add(budget)}
	if !now.Before(s.giveUpAt) {
		s.exhausted = true
		return s
	}
	if failures <= len(r.Fast) {
		s.wait = r.Fast[failures-1]
	} else {
		s.wait, s.slow = r.Slow[min(failures-len(r.Fast)-1, len(r.Slow)-1)], true
	}
	// The last attempt comes when the budget ends, not a tier later.
	s.wait = min(s.wait, max(s.giveUpAt.Sub(now), time.Second))
	if r.Tier != nil {
		s.wait = r.Tier(s.wait)
	}
	return s
}

// transient handles a transient failure err of e: the events that retry
// it, or, when answered is set, the answer already written: 503 when
// delivery does not retry itself (or cannot build the retry), 422 once the
// budget is spent.
func (s *server) transient(w http.ResponseWriter, e events.Event, stageName string, err error) (emits []stage.Emit, o outcome, answered bool) {
	if !s.cfg.Retry.Enabled() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "transient failure: "+err.Error(), http.StatusServiceUnavailable)
		return nil, outcome{status: 503, result: "transient", err: err}, true
	}
	now := s.cfg.Now()
	st := s.cfg.Retry.next(e, now)
	if st.exhausted {
		x := errExhausted{st: st, err: err}
		http.Error(w, x.Error(), http.StatusUnprocessableEntity)
		return nil, outcome{status: 422, result: "exhausted", err: x}, true
	}
	emits, rerr := s.retryEmits(e, stageName, err, st, now)
	if rerr != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "transient failure: "+err.Error(), http.StatusServiceUnavailable)
		return nil, outcome{status: 503, result: "transient", err: errors.Join(err, rerr)}, true
	}
	o = outcome{result: "retry", err: err}
	if st.slow {
		o.result = "retrying"
	}
	return emits, o, false
}

// retryEmits are the events that retry e after a transient failure err:
// e again, later, with one more failure in its history (and what the stage
// asked to carry), and, in the slow tier, cl.dte.retrying for Odoo.
func (s *server) retryEmits(e events.Event, stageName string, err error, st step, now time.Time) ([]stage.Emit, error) {
	again := events.WithRetry(e, st.failures, st.since)
	var carry *stage.CarryError
	if errors.As(err, &carry) {
		for k, v := range carry.Ext {
			if serr := again.Context.SetExtension(k, v); serr != nil {
				return nil, fmt.Errorf("carry %s: %w", k, serr)
			}
		}
	}
	emits := []stage.Emit{stage.Again(again, st.wait)}
	if !st.slow {
		return emits, nil
	}
	r, rerr := retryingEvent(e, stageName, err, st, now)
	if rerr != nil {
		// No document to tell Odoo about: the retry goes on regardless.
		s.cfg.Logger.Warn("slow retry of an event without a document", "ce_id", e.ID(), "error", rerr)
		return emits, nil
	}
	return append(emits, stage.Now(r)), nil
}

// retryingEvent is the cl.dte.retrying event that tells Odoo e failed
// transiently and waits in the slow tier.
func retryingEvent(e events.Event, stageName string, err error, st step, now time.Time) (events.Event, error) {
	key, kerr := events.Key(e)
	if kerr != nil {
		return events.Event{}, kerr
	}
	data := events.Retrying{
		DTEKey: key.String(), Stage: stageName, Reason: err.Error(), Attempts: st.failures,
		FirstFailure: st.since.UTC(), NextAttemptAt: now.Add(st.wait).UTC().Truncate(time.Second), GiveUpAt: st.giveUpAt.UTC(),
		Odoo: events.OdooOf(e),
	}
	return events.New(events.ID(key, "retrying", stageName, e.ID(), strconv.Itoa(st.failures)), events.TypeRetrying, "/dte/"+stageName, key, data)
}

// ReasonExhausted begins the answer (and so the dead letter's reason) of an
// event whose retry budget ran out: what metrics classify it by.
const ReasonExhausted = "retry budget exhausted"

// errExhausted is a transient failure whose retry budget ran out.
type errExhausted struct {
	st  step
	err error
}

func (x errExhausted) Error() string {
	return fmt.Sprintf("%s: %d attempts since %s, gave up at %s: %v",
		ReasonExhausted, x.st.failures, x.st.since.UTC().Format(time.RFC3339), x.st.giveUpAt.UTC().Format(time.RFC3339), x.err)
}

func (x errExhausted) Unwrap() error { return x.err }

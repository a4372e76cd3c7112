// Package stage is the shape every stage of the pipeline has, the way a
// Knative Function's Handle is shaped: a pure handler that takes one event
// and returns the events to emit, each at once or after a delay, and an
// error that errs classifies (transient: try the delivery again; permanent:
// report it).
//
// A stage never talks to the broker. The delivery package around it
// publishes what it returns, with publisher confirms, and acknowledges the
// incoming event only after every one of them was confirmed; on an error
// nothing is emitted. Because delivery is at least once, a stage must give
// the same events (the same ids) when it sees the same event again.
//
// The packages under shared/stage import neither the AMQP client nor bus
// nor delivery (TestStagesDoNotReachTheBroker); this one holds only the
// shape they share.
package stage

import (
	"context"
	"time"

	"github.com/dtecl/pipeline/shared/events"
)

// attemptKey is the context key of the delivery attempt.
type attemptKey struct{}

// WithAttempt tells the stage which delivery attempt of its event this is
// (delivery sets it, from the platform's attempt header or the event's
// retry history).
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// Attempt is the delivery attempt of the event being handled: 1 for the
// first, or when the platform does not say (a platform's own redelivery may
// then look like a first attempt). A stage may skip reading what only a
// repeat would find done on a first attempt, never a check that keeps a
// guarantee.
func Attempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok && n > 0 {
		return n
	}
	return 1
}

// Handler is a stage's core.
type Handler func(ctx context.Context, e events.Event) ([]Emit, error)

// Emit is one event a stage asks to be published.
type Emit struct {
	Event events.Event
	// After delays the event: it reaches its consumers after about this
	// long (delivery rounds it up to the broker's delay tiers, from 1 s to
	// 15 min). Zero: at once.
	After time.Duration
	// Redeliver addresses the event to the emitting stage only (its own
	// queue) instead of to every consumer of its type: the stage wants to
	// look at it again later, as with a note waiting for the document it
	// modifies. Its consumers of the type elsewhere do not see it twice.
	Redeliver bool
}

// Now emits e at once to every consumer of its type.
func Now(e events.Event) Emit { return Emit{Event: e} }

// Later emits e to every consumer of its type after d.
func Later(e events.Event, d time.Duration) Emit { return Emit{Event: e, After: d} }

// Again brings e back to this stage after d: a retry the stage decides
// (the event is done for now and its delivery is acknowledged).
func Again(e events.Event, d time.Duration) Emit { return Emit{Event: e, After: d, Redeliver: true} }

// One is the result of a stage that emits at most one event at once: e
// when it is not nil, nothing otherwise.
func One(e *events.Event, err error) ([]Emit, error) {
	if err != nil || e == nil {
		return nil, err
	}
	return []Emit{Now(*e)}, nil
}

// Carry is a transient failure after which the stage knows something its
// next attempt must not lose, such as the TrackID the SII gave to an
// upload whose record could not be written (the archive was down). The
// delivery that retries the event sets ext as extensions of the retried
// copy, so the next attempt reads them from the event: nothing is held in
// memory. Where the platform retries instead (a delivery that could not
// publish its retry), they are lost and the stage must cope without them.
func Carry(err error, ext map[string]string) error {
	if err == nil {
		return nil
	}
	return &CarryError{Err: err, Ext: ext}
}

// CarryError is what Carry returns.
type CarryError struct {
	Err error
	Ext map[string]string
}

func (c *CarryError) Error() string { return c.Err.Error() }
func (c *CarryError) Unwrap() error { return c.Err }

package events

import (
	"fmt"
	"strconv"
	"time"
)

// Extensions of an event that is being retried (docs/design.md,
// "Retries"). Its retry history travels with it, so that nothing about the
// retries is held in memory and every platform retries the same way: the
// delivery around a stage reads them, counts one more failure and
// publishes the event again, later, to the stage's own queue. They are
// strings on the wire (HTTP headers in binary mode).
const (
	// ExtRetries counts the failed attempts so far.
	ExtRetries = "retries"
	// ExtRetrySince is when the first of them failed (RFC 3339): the retry
	// budget is measured from it.
	ExtRetrySince = "retrysince"
)

// RetryOf reads an event's retry history: failed attempts so far and when
// the first one failed (zero when it has none). A history that does not
// parse counts as none: it cannot make an event retried for ever, only
// start its budget again.
func RetryOf(e Event) (failures int, since time.Time) {
	ext := e.Extensions()
	n, err := strconv.Atoi(fmt.Sprint(ext[ExtRetries]))
	if err != nil || n < 0 {
		return 0, time.Time{}
	}
	s, ok := ext[ExtRetrySince]
	if !ok {
		return 0, time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(s))
	if err != nil {
		return 0, time.Time{}
	}
	return n, t
}

// WithRetry returns a copy of e that carries the given retry history.
func WithRetry(e Event, failures int, since time.Time) Event {
	c := e.Clone()
	c.SetExtension(ExtRetries, strconv.Itoa(failures))
	c.SetExtension(ExtRetrySince, since.UTC().Format(time.RFC3339Nano))
	return c
}

// WithoutRetry returns a copy of e without retry history (a replay by an
// operator starts a new budget; an event a stage emits after succeeding
// has none).
func WithoutRetry(e Event) Event {
	c := e.Clone()
	c.SetExtension(ExtRetries, nil)
	c.SetExtension(ExtRetrySince, nil)
	return c
}

// HasRetry reports whether e carries a retry history.
func HasRetry(e Event) bool {
	_, ok := e.Extensions()[ExtRetries]
	return ok
}

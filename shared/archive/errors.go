package archive

import "errors"

// Sentinel errors. Each is wrapped with the operation and the object key;
// test for them with errors.Is.
var (
	// ErrNotFound: the object (or the document state) does not exist.
	ErrNotFound = errors.New("not in the archive")

	// ErrExists: a create-only write (If-None-Match: *) found the key
	// already present. For PutDTE this is the normal outcome of a
	// redelivered message: read the stored document back and compare digests.
	ErrExists = errors.New("already in the archive")

	// ErrConflict: a compare-and-swap write (If-Match) lost against another
	// writer, or UpdateState gave up after its attempts.
	ErrConflict = errors.New("changed by another writer")

	// ErrConfig: the archive is misconfigured (bad credentials, access
	// denied, missing bucket). It is deliberately NOT marked permanent:
	// retrying the same message cannot help until an operator fixes the
	// configuration, but the document itself is fine, so it should go the
	// transient way (retries, then the dead-letter queue, from where it can
	// be replayed after the fix) rather than fail the invoice in Odoo.
	// Functions may also test for it at start to refuse to become ready.
	ErrConfig = errors.New("archive misconfigured")

	// ErrInvalidKey: a key was asked for with values that are not valid
	// (zero RUT, bad check digit, type or folio out of range, bad envelope
	// ID). Always wrapped as permanent.
	ErrInvalidKey = errors.New("invalid archive key")

	// ErrTooLarge: an object is larger than the store's MaxObjectSize.
	ErrTooLarge = errors.New("object too large")

	// ErrCorruptState: a state object exists but is not a valid State.
	ErrCorruptState = errors.New("corrupt document state")

	// ErrNoUpdate is returned by an UpdateState function to leave the state
	// unchanged (e.g. the event was already recorded); UpdateState then
	// writes nothing and returns the current state with a nil error.
	ErrNoUpdate = errors.New("no update")

	// ErrNoConditionalWrites: ProbeConditionalWrites found that the server
	// ignores If-Match or If-None-Match on PutObject.
	ErrNoConditionalWrites = errors.New("server ignores conditional writes")
)

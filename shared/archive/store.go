package archive

import (
	"context"
	"time"
)

// Store is the object-store surface the archive needs. It is small on
// purpose so that handlers can be tested with a fake (see archivetest).
// Implementations bound every call with a timeout of their own, on top of
// the caller's context.
type Store interface {
	// Get reads a whole object. A missing key is ErrNotFound.
	Get(ctx context.Context, key string) (Object, error)
	// Head reads an object's ETag, content type and metadata, not its
	// body (Object.Body is nil). A missing key is ErrNotFound.
	Head(ctx context.Context, key string) (Object, error)
	// Put writes an object and returns its new ETag. With
	// opts.IfNoneMatch == "*" it fails with ErrExists when the key exists;
	// with opts.IfMatch set it fails with ErrConflict unless the current
	// ETag equals it (when the key is gone: ErrNotFound from AWS and
	// versitygw, which answer 404, ErrConflict from gofakes3, which answers
	// 412).
	Put(ctx context.Context, key string, body []byte, opts PutOptions) (etag string, err error)
	// List returns every object whose key starts with prefix, in key
	// order, following pagination to the end.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes an object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Object is an object read back whole. Archived objects are small (XML
// documents, JSON state), so the body is kept in memory.
type Object struct {
	Key         string
	Body        []byte
	ETag        string            // opaque, quoted as the server sent it; pass it back in PutOptions.IfMatch
	ContentType string            // as stored
	Metadata    map[string]string // user metadata, keys in lower case (S3 lower-cases them)
}

// PutOptions are the optional parts of a Put.
type PutOptions struct {
	ContentType string
	// Metadata is stored as user metadata (x-amz-meta-*). Keys should be
	// lower-case ASCII; values ASCII.
	Metadata map[string]string
	// IfNoneMatch "*" makes the write create-only (ErrExists when present).
	IfNoneMatch string
	// IfMatch makes the write a compare-and-swap on this ETag (ErrConflict
	// when the object changed since it was read).
	IfMatch string
}

// ObjectInfo is one entry of a listing.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
	ETag         string
}

package archivetest

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
)

// Mem is an in-memory archive.Store. Like S3 it honours If-None-Match: *
// and If-Match (ETag = quoted hex MD5 of the body), lower-cases metadata
// keys and lists in key order. It is safe for concurrent use.
type Mem struct {
	mu       sync.Mutex
	objects  map[string]memObject
	failures map[string][]error
	ignore   MemOptions
	calls    map[string]int
}

// MemOptions make a Mem behave like a server that ignores conditional
// writes or whose ETags are not MD5s, to exercise archive's fallbacks.
type MemOptions struct {
	IgnoreIfMatch     bool
	IgnoreIfNoneMatch bool
	// OpaqueETags gives every write a random 32-hex ETag instead of the
	// body's MD5, as SSE-KMS buckets do.
	OpaqueETags bool
}

type memObject struct {
	body        []byte
	etag        string
	contentType string
	meta        map[string]string
	modified    time.Time
}

var _ archive.Store = (*Mem)(nil)

// NewMem returns an empty store that honours conditional writes.
func NewMem() *Mem { return NewMemWith(MemOptions{}) }

// NewMemWith returns an empty store with the given behaviour.
func NewMemWith(o MemOptions) *Mem {
	return &Mem{
		objects:  map[string]memObject{},
		failures: map[string][]error{},
		ignore:   o,
		calls:    map[string]int{},
	}
}

// FailNext makes the next len(errs) calls of op ("get", "put", "list" or
// "delete") fail with these errors, in order, before touching the data.
func (m *Mem) FailNext(op string, errs ...error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[op] = append(m.failures[op], errs...)
}

// Calls is how many times op was called.
func (m *Mem) Calls(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[op]
}

// Keys lists every stored key, sorted.
func (m *Mem) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.objects))
}

// Raw returns a copy of the stored body of key, and whether it exists.
func (m *Mem) Raw(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	return slices.Clone(o.body), ok
}

// begin counts the call and pops an injected failure. Callers hold mu.
func (m *Mem) begin(ctx context.Context, op string) error {
	m.calls[op]++
	if err := ctx.Err(); err != nil {
		return err
	}
	if q := m.failures[op]; len(q) > 0 {
		m.failures[op] = q[1:]
		return q[0]
	}
	return nil
}

// Get implements archive.Store.
func (m *Mem) Get(ctx context.Context, key string) (archive.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "get"); err != nil {
		return archive.Object{}, err
	}
	o, ok := m.objects[key]
	if !ok {
		return archive.Object{}, fmt.Errorf("mem get %s: %w", key, archive.ErrNotFound)
	}
	return archive.Object{
		Key:         key,
		Body:        slices.Clone(o.body),
		ETag:        o.etag,
		ContentType: o.contentType,
		Metadata:    maps.Clone(o.meta),
	}, nil
}

// Head implements archive.Store.
func (m *Mem) Head(ctx context.Context, key string) (archive.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "head"); err != nil {
		return archive.Object{}, err
	}
	o, ok := m.objects[key]
	if !ok {
		return archive.Object{}, fmt.Errorf("mem head %s: %w", key, archive.ErrNotFound)
	}
	return archive.Object{Key: key, ETag: o.etag, ContentType: o.contentType, Metadata: maps.Clone(o.meta)}, nil
}

// Put implements archive.Store.
func (m *Mem) Put(ctx context.Context, key string, body []byte, opts archive.PutOptions) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "put"); err != nil {
		return "", err
	}
	cur, exists := m.objects[key]
	if opts.IfNoneMatch == "*" && exists && !m.ignore.IgnoreIfNoneMatch {
		return "", fmt.Errorf("mem put %s: %w", key, archive.ErrExists)
	}
	if opts.IfMatch != "" && !m.ignore.IgnoreIfMatch {
		if !exists {
			return "", fmt.Errorf("mem put %s: %w", key, archive.ErrNotFound)
		}
		if strings.Trim(opts.IfMatch, `"`) != strings.Trim(cur.etag, `"`) {
			return "", fmt.Errorf("mem put %s: %w", key, archive.ErrConflict)
		}
	}
	sum := md5.Sum(body)
	if m.ignore.OpaqueETags {
		rand.Read(sum[:])
	}
	o := memObject{
		body:        slices.Clone(body),
		etag:        `"` + hex.EncodeToString(sum[:]) + `"`,
		contentType: opts.ContentType,
		meta:        map[string]string{},
		modified:    time.Now(),
	}
	for k, v := range opts.Metadata {
		o.meta[strings.ToLower(k)] = v
	}
	m.objects[key] = o
	return o.etag, nil
}

// List implements archive.Store.
func (m *Mem) List(ctx context.Context, prefix string) ([]archive.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "list"); err != nil {
		return nil, err
	}
	var infos []archive.ObjectInfo
	for _, k := range slices.Sorted(maps.Keys(m.objects)) {
		if strings.HasPrefix(k, prefix) {
			o := m.objects[k]
			infos = append(infos, archive.ObjectInfo{Key: k, Size: int64(len(o.body)), LastModified: o.modified, ETag: o.etag})
		}
	}
	return infos, nil
}

// Delete implements archive.Store.
func (m *Mem) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, "delete"); err != nil {
		return err
	}
	delete(m.objects, key)
	return nil
}

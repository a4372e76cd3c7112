package archive_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

// backend is a Store under test with a key prefix private to this run.
type backend struct {
	name string
	open func(t *testing.T) archive.Store
}

// backends are the stores every contract test runs against: the
// in-memory fake, gofakes3 over HTTP (with 2-key list pages to exercise
// pagination) and each real server and bucket kind of s3Servers (skipped
// when absent, failing under CI=true), also with 2-key pages.
func backends() []backend {
	out := []backend{
		{"mem", func(t *testing.T) archive.Store { return archivetest.NewMem() }},
		{"gofakes3", func(t *testing.T) archive.Store { return fakeS3(t, 2) }},
	}
	for _, srv := range s3Servers() {
		out = append(out, backend{srv.name, func(t *testing.T) archive.Store {
			cfg := srv.config(t)
			cfg.ListPageSize = 2
			s, err := archive.NewS3(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}})
	}
	return out
}

// TestStoreContract pins what archive relies on from a Store, on every
// backend: the conditional-write answers, metadata round trip, paginated
// listing, idempotent delete.
func TestStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			prefix := fmt.Sprintf("t/%s/", randomIssuer(t).NumberString())
			cleanupPrefixes(t, s, prefix)
			ctx := testCtx(t)
			key := prefix + "a.xml"

			t.Run("get missing", func(t *testing.T) {
				_, err := s.Get(ctx, prefix+"missing.xml")
				if !errors.Is(err, archive.ErrNotFound) {
					t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
				}
			})
			var etag1 string
			t.Run("create only if absent", func(t *testing.T) {
				var err error
				etag1, err = s.Put(ctx, key, []byte("<a>1</a>"), archive.PutOptions{
					ContentType: "application/xml; charset=ISO-8859-1",
					Metadata:    map[string]string{"sha256": "abc", "dtekey": "1-9-33-1"},
					IfNoneMatch: "*",
				})
				if err != nil || etag1 == "" {
					t.Fatalf("first Put = %q, %v", etag1, err)
				}
				_, err = s.Put(ctx, key, []byte("<a>2</a>"), archive.PutOptions{IfNoneMatch: "*"})
				if !errors.Is(err, archive.ErrExists) {
					t.Fatalf("second create-only Put = %v, want ErrExists", err)
				}
			})
			t.Run("round trip", func(t *testing.T) {
				obj, err := s.Get(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if string(obj.Body) != "<a>1</a>" || obj.ETag != etag1 {
					t.Errorf("Get = %q etag %q, want <a>1</a> etag %q", obj.Body, obj.ETag, etag1)
				}
				if obj.ContentType != "application/xml; charset=ISO-8859-1" {
					t.Errorf("content type %q", obj.ContentType)
				}
				if obj.Metadata["sha256"] != "abc" || obj.Metadata["dtekey"] != "1-9-33-1" {
					t.Errorf("metadata %v", obj.Metadata)
				}
			})
			t.Run("compare and swap", func(t *testing.T) {
				_, err := s.Put(ctx, key, []byte("<a>3</a>"), archive.PutOptions{IfMatch: `"0123456789abcdef0123456789abcdef"`})
				if !errors.Is(err, archive.ErrConflict) {
					t.Fatalf("Put with a stale If-Match = %v, want ErrConflict", err)
				}
				etag2, err := s.Put(ctx, key, []byte("<a>4</a>"), archive.PutOptions{IfMatch: etag1})
				if err != nil {
					t.Fatalf("Put with the current If-Match: %v", err)
				}
				if etag2 == etag1 {
					t.Errorf("ETag did not change: %q", etag2)
				}
				_, err = s.Put(ctx, key, []byte("<a>5</a>"), archive.PutOptions{IfMatch: etag1})
				if !errors.Is(err, archive.ErrConflict) {
					t.Fatalf("Put with the previous ETag = %v, want ErrConflict", err)
				}
				obj, err := s.Get(ctx, key)
				if err != nil || string(obj.Body) != "<a>4</a>" {
					t.Fatalf("after CAS: %q, %v; want <a>4</a>", obj.Body, err)
				}
				_, err = s.Put(ctx, prefix+"gone.xml", []byte("x"), archive.PutOptions{IfMatch: etag2})
				// AWS and versitygw answer 404, gofakes3 412: either way not a write.
				if !errors.Is(err, archive.ErrNotFound) && !errors.Is(err, archive.ErrConflict) {
					t.Fatalf("If-Match on a missing key = %v, want ErrNotFound or ErrConflict", err)
				}
			})
			t.Run("list paginates in key order", func(t *testing.T) {
				var want []string
				for i := range 5 {
					k := fmt.Sprintf("%sl/%02d.json", prefix, i)
					want = append(want, k)
					if _, err := s.Put(ctx, k, []byte(fmt.Sprint(i*10)), archive.PutOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				infos, err := s.List(ctx, prefix+"l/")
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, i := range infos {
					got = append(got, i.Key)
					if i.LastModified.IsZero() {
						t.Errorf("%s: no LastModified", i.Key)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("List = %v, want %v", got, want)
				}
				if infos[3].Size != 2 || infos[0].Size != 1 {
					t.Errorf("sizes %d, %d; want 1, 2", infos[0].Size, infos[3].Size)
				}
				none, err := s.List(ctx, prefix+"nothing/")
				if err != nil || len(none) != 0 {
					t.Fatalf("List(empty prefix) = %v, %v", none, err)
				}
			})
			t.Run("delete is idempotent", func(t *testing.T) {
				if err := s.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Fatalf("second Delete: %v", err)
				}
				if _, err := s.Get(ctx, key); !errors.Is(err, archive.ErrNotFound) {
					t.Fatalf("Get after Delete = %v", err)
				}
			})
		})
	}
}

// TestProbeConditionalWrites: the servers we use honour both conditions;
// a server that ignores them is told apart, and so is one whose ETags are
// not MD5s (SSE-KMS). The probe leaves nothing behind, not even an old
// version or a delete marker on a versioned bucket.
func TestProbeConditionalWrites(t *testing.T) {
	all := archive.Capabilities{IfNoneMatch: true, IfMatch: true, MD5ETags: true}
	type probeCase struct {
		name  string
		store func(t *testing.T) (archive.Store, *archive.S3Config)
		want  archive.Capabilities
	}
	mem := func(o archivetest.MemOptions) func(t *testing.T) (archive.Store, *archive.S3Config) {
		return func(t *testing.T) (archive.Store, *archive.S3Config) { return archivetest.NewMemWith(o), nil }
	}
	tests := []probeCase{
		{"mem", mem(archivetest.MemOptions{}), all},
		{"mem ignoring If-Match", mem(archivetest.MemOptions{IgnoreIfMatch: true}), archive.Capabilities{IfNoneMatch: true, MD5ETags: true}},
		{"mem ignoring both", mem(archivetest.MemOptions{IgnoreIfMatch: true, IgnoreIfNoneMatch: true}), archive.Capabilities{MD5ETags: true}},
		{"mem with opaque ETags", mem(archivetest.MemOptions{OpaqueETags: true}), archive.Capabilities{IfNoneMatch: true, IfMatch: true}},
		{"gofakes3", func(t *testing.T) (archive.Store, *archive.S3Config) { return fakeS3(t, 0), nil }, all},
	}
	sses3 := archivetest.SSES3()
	servers := append(s3Servers(), s3Server{sses3, sses3.Name})
	for _, srv := range servers {
		want := all
		if srv.Kind.Encryption == types.ServerSideEncryptionAwsKms {
			want.MD5ETags = false
		}
		tests = append(tests, probeCase{srv.name, func(t *testing.T) (archive.Store, *archive.S3Config) {
			cfg := srv.config(t)
			return srv.open(t), &cfg
		}, want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cfg := tt.store(t)
			rec := &recorder{Store: s}
			got, err := archive.ProbeConditionalWrites(testCtx(t), rec)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("capabilities %+v, want %+v", got, tt.want)
			}
			if (got.Err() == nil) != (got.IfMatch && got.IfNoneMatch) || (got.Err() != nil && !errors.Is(got.Err(), archive.ErrNoConditionalWrites)) {
				t.Errorf("Err() = %v for %+v", got.Err(), got)
			}
			keys := rec.written()
			if len(keys) == 0 {
				t.Fatal("the probe wrote nothing")
			}
			for _, key := range keys {
				if !strings.HasPrefix(key, archive.ProbePrefix) {
					t.Errorf("the probe wrote %s, outside %s", key, archive.ProbePrefix)
				}
				if _, err := s.Get(testCtx(t), key); !errors.Is(err, archive.ErrNotFound) {
					t.Errorf("probe left %s behind (%v)", key, err)
				}
				if cfg == nil {
					continue
				}
				versions, err := archivetest.Versions(testCtx(t), *cfg, key)
				if err != nil || len(versions) != 0 {
					t.Errorf("probe left versions of %s behind: %v (%v)", key, versions, err)
				}
			}
		})
	}
}

// recorder is a store that remembers the keys written through it.
type recorder struct {
	archive.Store
	mu   sync.Mutex
	keys []string
}

func (r *recorder) Put(ctx context.Context, key string, body []byte, opts archive.PutOptions) (string, error) {
	r.mu.Lock()
	if !slices.Contains(r.keys, key) {
		r.keys = append(r.keys, key)
	}
	r.mu.Unlock()
	return r.Store.Put(ctx, key, body, opts)
}

// PurgeVersions passes the probe's clean-up on to a store that purges
// versions, so that the recorder does not hide the capability.
func (r *recorder) PurgeVersions(ctx context.Context, prefix string) error {
	if p, ok := r.Store.(archive.VersionPurger); ok {
		return p.PurgeVersions(ctx, prefix)
	}
	return r.Store.Delete(ctx, prefix)
}

func (r *recorder) written() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

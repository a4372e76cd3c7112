package archive_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/rut"
)

func TestPutDTE(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			issuer := randomIssuer(t)
			cleanupPrefixes(t, s, archive.PrefixDTE+issuer.String()+"/")
			ctx := testCtx(t)
			a := archive.New(s)
			k := mustKey(t, issuer, 33, 1042)
			signed := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<DTE>DISE\xd1O</DTE>")

			doc, err := a.PutDTE(ctx, k, signed, "req-digest")
			if err != nil {
				t.Fatal(err)
			}
			wantKey := "dte/" + issuer.String() + "/33/1042.xml"
			if doc.Key != wantKey || doc.Digest != archive.Digest(signed) {
				t.Fatalf("PutDTE = %s %s, want %s", doc.Key, doc.Digest, wantKey)
			}
			// A redelivered message: create-only, then compare digests.
			_, err = a.PutDTE(ctx, k, []byte("<DTE>second signature</DTE>"), "req-digest")
			if !errors.Is(err, archive.ErrExists) {
				t.Fatalf("second PutDTE = %v, want ErrExists", err)
			}
			got, err := a.GetDTE(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Body, signed) || got.Digest != doc.Digest {
				t.Fatalf("GetDTE returned other bytes (%s)", got.Digest)
			}
			obj, err := s.Get(ctx, wantKey)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Metadata[archive.MetaSHA256] != doc.Digest || obj.Metadata[archive.MetaDTEKey] != k.String() {
				t.Errorf("metadata %v", obj.Metadata)
			}
			if _, err := a.GetDTE(ctx, mustKey(t, issuer, 33, 1043)); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("GetDTE(missing) = %v", err)
			}
		})
	}
}

func TestPutDTEWithoutIfNoneMatch(t *testing.T) {
	mem := archivetest.NewMemWith(archivetest.MemOptions{IgnoreIfNoneMatch: true})
	a := archive.New(mem, archive.WithCapabilities(archive.Capabilities{IfMatch: true, MD5ETags: true}))
	k := mustKey(t, randomIssuer(t), 33, 1)
	if _, err := a.PutDTE(testCtx(t), k, []byte("a"), "req-digest"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutDTE(testCtx(t), k, []byte("b"), "req-digest"); !errors.Is(err, archive.ErrExists) {
		t.Fatalf("second PutDTE = %v, want ErrExists from the read-first fallback", err)
	}
	if got, _ := a.GetDTE(testCtx(t), k); string(got.Body) != "a" {
		t.Fatalf("stored %q, want the first", got.Body)
	}
}

func TestPutEnvio(t *testing.T) {
	mem := archivetest.NewMem()
	a := archive.New(mem)
	issuer := rut.MustParse("76086428-5")
	at := time.Date(2025, 1, 31, 23, 30, 0, 0, time.UTC)
	doc, err := a.PutEnvio(testCtx(t), issuer, at, "SetDoc_1", []byte("<EnvioDTE/>"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Key != "envio/76086428-5/2025/01/SetDoc_1.xml" {
		t.Fatalf("key %s", doc.Key)
	}
	if _, err := a.PutEnvio(testCtx(t), issuer, at, "SetDoc_1", []byte("<EnvioDTE/>"), time.Time{}); !errors.Is(err, archive.ErrExists) {
		t.Fatalf("second PutEnvio = %v, want ErrExists", err)
	}
	got, err := a.GetDocument(testCtx(t), doc.Key)
	if err != nil || string(got.Body) != "<EnvioDTE/>" || !got.UploadStarted.IsZero() {
		t.Fatalf("GetDocument = %q, %v, upload started %s", got.Body, err, got.UploadStarted)
	}
}

// TestEnvelopeUploadStarted: the moment an envelope's upload began is
// stored with it and read back to the nanosecond, on every server (it is
// the upload mark's time: a second delivery waits the grace from it).
func TestEnvelopeUploadStarted(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			a := archive.New(s)
			issuer := randomIssuer(t)
			cleanupPrefixes(t, s, archive.PrefixEnvio+issuer.String()+"/")
			started := time.Date(2025, 1, 31, 23, 31, 2, 123456789, time.FixedZone("CLT", -3*3600))
			doc, err := a.PutEnvio(testCtx(t), issuer, started, "EnvioDTE-1-33-9", []byte("<EnvioDTE/>"), started)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.GetDocument(testCtx(t), doc.Key)
			if err != nil || !got.UploadStarted.Equal(started) || string(got.Body) != "<EnvioDTE/>" {
				t.Fatalf("read back %q, upload started %s, %v; want %s", got.Body, got.UploadStarted, err, started)
			}
		})
	}
}

func TestCAFs(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := testCtx(t)
			a := archive.New(s)
			issuer, other := randomIssuer(t), randomIssuer(t)
			for _, r := range []rut.RUT{issuer, other} {
				cleanupPrefixes(t, s, archive.PrefixCAF+r.String()+"/")
			}
			put := func(r rut.RUT, typ int, from, to int64, data string) (string, bool) {
				t.Helper()
				key, created, err := a.PutCAF(ctx, r, typ, from, to, []byte(data))
				if err != nil {
					t.Fatal(err)
				}
				return key, created
			}
			put(issuer, 33, 101, 200, "caf 33 b")
			put(issuer, 33, 1, 100, "caf 33 a")
			put(issuer, 61, 1, 10, "caf 61")
			put(other, 33, 1, 5, "other issuer")

			t.Run("idempotent", func(t *testing.T) {
				key, created := put(issuer, 33, 1, 100, "caf 33 a")
				if created || key != "caf/"+issuer.String()+"/33/1-100.xml" {
					t.Fatalf("re-adding the same file: created=%v key=%s", created, key)
				}
				_, _, err := a.PutCAF(ctx, issuer, 33, 1, 100, []byte("a different file"))
				if !errors.Is(err, archive.ErrExists) {
					t.Fatalf("a different file for the same range = %v, want ErrExists", err)
				}
			})
			t.Run("by issuer and type, in range order", func(t *testing.T) {
				files, err := a.CAFs(ctx, issuer, 33)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range files {
					got = append(got, string(f.Data))
					if f.Issuer != issuer || f.Type != 33 {
						t.Errorf("%s: ref %+v", f.Key, f.CAFRef)
					}
				}
				if !slices.Equal(got, []string{"caf 33 a", "caf 33 b"}) {
					t.Fatalf("CAFs = %q", got)
				}
			})
			t.Run("one issuer, all types; stray objects skipped", func(t *testing.T) {
				if _, err := s.Put(ctx, archive.PrefixCAF+issuer.String()+"/33/notes.txt", []byte("x"), archive.PutOptions{}); err != nil {
					t.Fatal(err)
				}
				files, err := a.ListCAFs(ctx, issuer, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != 3 || files[2].Type != 61 {
					t.Fatalf("ListCAFs = %d files", len(files))
				}
			})
			t.Run("none for a type", func(t *testing.T) {
				files, err := a.CAFs(ctx, issuer, 52)
				if err != nil || len(files) != 0 {
					t.Fatalf("CAFs(52) = %d, %v", len(files), err)
				}
			})
		})
	}
}

// TestDTERequest: the request digest of a signed DTE comes from its
// metadata, through a HEAD (no body read); a folio with no DTE is
// ErrNotFound, on every server. DocumentState follows the document along:
// nothing, signed (a DTE and no state, as sign leaves it), then its state.
func TestDTERequest(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := testCtx(t)
			a := archive.New(s)
			issuer := randomIssuer(t)
			cleanupPrefixes(t, s, archive.PrefixDTE+issuer.String()+"/")
			k := mustKey(t, issuer, 33, 7)
			if _, err := a.DTERequest(ctx, k); !errors.Is(err, archive.ErrNotFound) {
				t.Fatalf("no DTE yet: %v, want ErrNotFound", err)
			}
			if st, err := a.DocumentState(ctx, k); !errors.Is(err, archive.ErrNotFound) {
				t.Fatalf("no DTE yet: DocumentState = %+v, %v; want ErrNotFound", st, err)
			}
			doc, err := a.PutDTE(ctx, k, []byte("<DTE/>"), "the-request")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := a.DTERequest(ctx, k); err != nil || got != "the-request" {
				t.Fatalf("DTERequest = %q, %v; want the-request", got, err)
			}
			st, err := a.DocumentState(ctx, k)
			if err != nil || st.Status != archive.StatusSigned || st.RequestDigest != "the-request" || st.ArchiveKey != doc.Key || st.DTEKey != k.String() {
				t.Fatalf("signed, no state: DocumentState = %+v, %v; want signed from the-request at %s", st, err, doc.Key)
			}
			cleanupPrefixes(t, s, archive.PrefixState+issuer.String()+"/")
			if _, err := a.UpdateState(ctx, k, func(s *archive.State) error {
				s.Record(time.Now(), archive.StatusAccepted, "", "")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if st, err := a.DocumentState(ctx, k); err != nil || st.Status != archive.StatusAccepted {
				t.Fatalf("with a state: DocumentState = %+v, %v; want the state (accepted)", st, err)
			}
			head, err := s.Head(ctx, doc.Key)
			if err != nil {
				t.Fatal(err)
			}
			get, err := s.Get(ctx, doc.Key)
			if err != nil {
				t.Fatal(err)
			}
			if head.Body != nil || head.ETag != get.ETag || head.ContentType != get.ContentType || head.Metadata[archive.MetaSHA256] != doc.Digest {
				t.Fatalf("HEAD %+v does not describe what GET reads (%q, %q)", head, get.ETag, get.ContentType)
			}
		})
	}
}

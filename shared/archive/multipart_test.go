package archive_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

// TestStateWrittenByMultipart: a state object put there by a multipart
// upload (a restore with `mc pipe`, a backup tool) has an ETag ending in
// "-1" that is no MD5 and no sha256 metadata. It must still load, take an
// update (If-Match on that ETag) and keep every entry, on every server and
// bucket kind, with or without a probe.
func TestStateWrittenByMultipart(t *testing.T) {
	for _, srv := range s3Servers() {
		t.Run(srv.name, func(t *testing.T) {
			cfg := srv.config(t)
			s := srv.open(t)
			issuer := randomIssuer(t)
			cleanupPrefixes(t, s, archive.PrefixState+issuer.String()+"/")
			k := mustKey(t, issuer, 33, 77)
			key, _ := archive.StateObjectKey(k)
			restored := archive.State{DTEKey: k.String(), Status: archive.StatusSent, TrackID: "42",
				History: []archive.Entry{{At: time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC), Status: archive.StatusSent, EventID: "ev-restored"}}}
			body, _ := json.Marshal(restored)
			etag, err := archivetest.PutMultipart(testCtx(t), cfg, key, body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(strings.Trim(etag, `"`), "-1") {
				t.Fatalf("multipart ETag %s does not end in -1", etag)
			}
			for i, probe := range []bool{false, true} {
				t.Run(fmt.Sprintf("probe=%v", probe), func(t *testing.T) {
					var opts []archive.Option
					if probe {
						caps, err := archive.ProbeConditionalWrites(testCtx(t), s)
						if err != nil {
							t.Fatal(err)
						}
						opts = append(opts, archive.WithCapabilities(caps))
					}
					a := archive.New(s, opts...)
					st, version, err := a.LoadState(testCtx(t), k)
					if err != nil {
						t.Fatalf("LoadState: %v", err)
					}
					if !st.Seen("ev-restored") || version == "" {
						t.Fatalf("state %+v version %q", st, version)
					}
					id := fmt.Sprint("ev-after-", i)
					if _, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error {
						s.Record(time.Now(), archive.StatusAccepted, "", id)
						return nil
					}); err != nil {
						t.Fatalf("UpdateState: %v", err)
					}
					st, _, err = a.LoadState(testCtx(t), k)
					if err != nil || !st.Seen("ev-restored") || !st.Seen(id) {
						t.Fatalf("after the update: %+v, %v", st.History, err)
					}
				})
				// The second round starts again from a multipart object.
				if _, err := archivetest.PutMultipart(testCtx(t), cfg, key, body, "application/json"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestStaleIfMatchOnMultipart: a compare-and-swap on a multipart object's
// ETag is refused once the object changed, as for any other ETag.
func TestStaleIfMatchOnMultipart(t *testing.T) {
	for _, srv := range s3Servers() {
		t.Run(srv.name, func(t *testing.T) {
			cfg := srv.config(t)
			s := srv.open(t)
			prefix := fmt.Sprintf("t/%s/", randomIssuer(t).NumberString())
			cleanupPrefixes(t, s, prefix)
			etag, err := archivetest.PutMultipart(testCtx(t), cfg, prefix+"m.json", []byte("{}"), "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(testCtx(t), prefix+"m.json", []byte("1"), archive.PutOptions{IfMatch: etag}); err != nil {
				t.Fatalf("If-Match on the multipart ETag: %v", err)
			}
			if _, err := s.Put(testCtx(t), prefix+"m.json", []byte("2"), archive.PutOptions{IfMatch: etag}); !errors.Is(err, archive.ErrConflict) {
				t.Fatalf("If-Match on the old multipart ETag = %v, want ErrConflict", err)
			}
		})
	}
}

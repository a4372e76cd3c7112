package archive_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/errs"
)

// TestPresignGet: a presigned link downloads the object without
// credentials, on every server; a bad expiry is refused.
func TestPresignGet(t *testing.T) {
	for _, srv := range s3Servers() {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.open(t)
			prefix := fmt.Sprintf("t/%s/", randomIssuer(t).NumberString())
			cleanupPrefixes(t, s, prefix)
			body := []byte("<DTE>firmado</DTE>")
			if _, err := s.Put(testCtx(t), prefix+"d.xml", body, archive.PutOptions{ContentType: "application/xml"}); err != nil {
				t.Fatal(err)
			}
			u, err := s.PresignGet(testCtx(t), prefix+"d.xml", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(u, "X-Amz-Signature=") || !strings.Contains(u, "X-Amz-Expires=60") {
				t.Errorf("not a presigned URL: %s", u)
			}
			client := &http.Client{Timeout: 10 * time.Second}
			resp, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(got) != string(body) {
				t.Fatalf("GET %s = %d %q", u, resp.StatusCode, got)
			}
			// The same link with the signature changed must not work:
			// the server checks it.
			resp, err = client.Get(strings.Replace(u, "X-Amz-Signature=", "X-Amz-Signature=0", 1))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("a tampered link answered %d, want 403", resp.StatusCode)
			}
		})
	}
	t.Run("expiry", func(t *testing.T) {
		s := fakeS3(t, 0)
		for _, d := range []time.Duration{0, -time.Second, archive.MaxPresignExpiry + time.Second} {
			if _, err := s.PresignGet(testCtx(t), "k", d); err == nil || !errs.IsPermanent(err) || !strings.Contains(err.Error(), "expiry") {
				t.Errorf("expiry %v: %v, want a permanent error naming the expiry", d, err)
			}
		}
	})
}

// TestPurgeVersions: on a versioned bucket every version and delete marker
// under the prefix goes, and nothing else; on the other buckets the
// objects go.
func TestPurgeVersions(t *testing.T) {
	for _, srv := range s3Servers() {
		t.Run(srv.name, func(t *testing.T) {
			cfg := srv.config(t)
			s := srv.open(t)
			base := fmt.Sprintf("t/%s/", randomIssuer(t).NumberString())
			cleanupPrefixes(t, s, base)
			for i := range 3 {
				if _, err := s.Put(testCtx(t), base+"p/a", []byte(fmt.Sprint(i)), archive.PutOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Delete(testCtx(t), base+"p/a"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(testCtx(t), base+"keep", []byte("k"), archive.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			before, err := archivetest.Versions(testCtx(t), cfg, base+"p/")
			if err != nil {
				t.Fatal(err)
			}
			if srv.Kind.Versioned && len(before) != 4 {
				t.Errorf("versioned bucket: %d versions before, want 3 and a delete marker: %v", len(before), before)
			}
			if err := s.PurgeVersions(testCtx(t), base+"p/"); err != nil {
				t.Fatal(err)
			}
			if left, err := archivetest.Versions(testCtx(t), cfg, base+"p/"); err != nil || len(left) != 0 {
				t.Fatalf("left %v (%v)", left, err)
			}
			if _, err := s.Get(testCtx(t), base+"keep"); err != nil {
				t.Fatalf("an object outside the prefix: %v", err)
			}
		})
	}
}

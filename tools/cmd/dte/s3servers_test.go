package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// cliTestBucket is the bucket family of these tests on the real servers.
const cliTestBucket = "dte-cli-test"

// TestArchiveCommandsOnEveryBucket runs the archive commands on each real
// server and bucket kind: `dte caf add` (which probes) and `dte caf list`;
// `dte status` on a state the pipeline wrote and on one a restore wrote by
// multipart upload (ETag "…-1", no metadata); `dte archive url` whose link
// downloads the signed DTE. SSE-KMS buckets (opaque ETags) and versioned
// buckets included.
func TestArchiveCommandsOnEveryBucket(t *testing.T) {
	pki := dtetest.MustShared(t)
	for _, target := range archivetest.Targets() {
		t.Run(target.Name, func(t *testing.T) {
			cfg := target.Bucket(t, cliTestBucket)
			store, err := archive.NewS3(cfg)
			if err != nil {
				t.Fatal(err)
			}
			issuer := rut.New(20_000_000 + rand.Int64N(30_000_000))
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				for _, p := range []string{"caf/", "dte/", "state/"} {
					if err := store.PurgeVersions(ctx, p+issuer.String()+"/"); err != nil {
						t.Logf("cleanup %s: %v", p, err)
					}
				}
			})
			env := map[string]string{
				"S3_ENDPOINT": cfg.Endpoint, "S3_BUCKET": cfg.Bucket,
				"S3_ACCESS_KEY": cfg.AccessKey, "S3_SECRET_KEY": cfg.SecretKey,
			}
			files, err := pki.WriteFiles(t.TempDir(), "pw", dtetest.CAFSpec{Issuer: issuer, Name: "EMPRESA DE PRUEBA", Type: 33, From: 1, To: 50})
			if err != nil {
				t.Fatal(err)
			}
			env["SII_CAF_KEYS"] = files.SIIKeysDir

			t.Run("caf add and list", func(t *testing.T) {
				out, errOut, code := runArchiveCmd(t, env, "caf", "add", files.CAFs[0])
				if code != 0 || !strings.Contains(out, "added") {
					t.Fatalf("caf add: exit %d\n%s%s", code, out, errOut)
				}
				out, errOut, code = runArchiveCmd(t, env, "caf", "list", issuer.String())
				if code != 0 || !regexp.MustCompile(`(?m)^`+issuer.String()+`\s+33\s+1-50\s`).MatchString(out) {
					t.Fatalf("caf list: exit %d\n%s%s", code, out, errOut)
				}
			})

			written := mustDTEKey(t, issuer, 33, 7)
			restored := mustDTEKey(t, issuer, 33, 8)
			a := archive.New(store)
			ctx := context.Background()
			if _, err := a.PutDTE(ctx, written, []byte("<DTE>7</DTE>"), "req"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.UpdateState(ctx, written, func(s *archive.State) error {
				s.ArchiveKey, _ = archive.DTEObjectKey(written)
				s.Record(time.Now(), archive.StatusSigned, "", "ev-sign")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(archive.State{DTEKey: restored.String(), Status: archive.StatusAccepted, TrackID: "99",
				History: []archive.Entry{{At: time.Now().UTC(), Status: archive.StatusAccepted, EventID: "ev-x"}}})
			stateKey, _ := archive.StateObjectKey(restored)
			if _, err := archivetest.PutMultipart(ctx, cfg, stateKey, body, "application/json"); err != nil {
				t.Fatal(err)
			}

			for k, want := range map[dtekey.Key]string{written: "signed", restored: "accepted"} {
				t.Run("status "+want, func(t *testing.T) {
					out, errOut, code := runArchiveCmd(t, env, "status", k.String())
					if code != 0 || !regexp.MustCompile(`(?m)^status\s+`+want+`$`).MatchString(out) {
						t.Fatalf("status %s: exit %d\n%s%s", k, code, out, errOut)
					}
				})
			}

			t.Run("archive url", func(t *testing.T) {
				out, errOut, code := runArchiveCmd(t, env, "archive", "url", "--expires", "5m", written.String())
				if code != 0 {
					t.Fatalf("exit %d\n%s%s", code, out, errOut)
				}
				link := strings.TrimSpace(out)
				resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(link)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(got) != "<DTE>7</DTE>" {
					t.Fatalf("GET the link: %d %q", resp.StatusCode, got)
				}
			})
		})
	}
}

func mustDTEKey(t *testing.T, issuer rut.RUT, typ int, folio int64) dtekey.Key {
	t.Helper()
	k, err := dtekey.New(issuer.String(), typ, folio)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// seedState writes a document's state as the pipeline would, with a fixed clock.
func seedState(t *testing.T, s archive.Store, key string) {
	t.Helper()
	k, err := dtekey.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	a := archive.New(s, archive.WithClock(func() time.Time { return at.Add(time.Hour) }))
	started := at.Add(2 * time.Second)
	_, err = a.UpdateState(context.Background(), k, func(st *archive.State) error {
		st.RequestDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		st.ArchiveKey = "dte/76086428-5/33/1042.xml"
		st.Digest = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
		st.EnvioKey = "envio/76086428-5/2025/03/SetDoc_1.xml"
		st.UploadStartedAt = &started
		st.TrackID = "0123456789"
		st.SIIState, st.SIIMessage = "RPR", "Aceptado con reparos"
		st.Checks = 2
		st.Record(at, archive.StatusQueued, "", "ev-enqueue")
		st.Record(at.Add(time.Second), archive.StatusSigned, "", "ev-sign")
		st.Record(started.Add(time.Second), archive.StatusSent, "TrackID 0123456789", "ev-submit")
		st.Record(at.Add(time.Hour), archive.StatusObjected, "RPR: Aceptado con reparos\n(leves)", "")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStatus(t *testing.T) {
	arc := newArchiveCLI(t)
	seedState(t, arc.store, "76086428-5-33-1042")
	stateKey := "state/76086428-5/33/1042.json"
	// objected: what the customer receives is listed (its printout here;
	// no receiver EnvioDTE)
	if _, err := arc.store.Put(context.Background(), "pdf/76086428-5/33/1042.pdf", []byte("%PDF-1.4 printout"), archive.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Signed, not yet uploaded: the DTE and no state (sign writes none).
	if _, err := arc.store.Put(context.Background(), "dte/76086428-5/33/1044.xml", []byte("<DTE/>"), archive.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("table", func(t *testing.T) {
		stdout, stderr, code := runArchiveCmd(t, arc.env, "status", "76086428-5-33-1042")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		golden := filepath.Join("testdata", "TestStatus", "table.golden")
		if *updateGolden {
			if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if stdout != string(want) {
			t.Fatalf("output differs from %s:\n%s", golden, stdout)
		}
	})
	t.Run("json is the stored object", func(t *testing.T) {
		stdout, stderr, code := runArchiveCmd(t, arc.env, "status", "--json", "76086428-5-33-1042")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		obj, err := arc.store.Get(context.Background(), stateKey)
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(obj.Body) {
			t.Fatalf("--json printed\n%s\nwant\n%s", stdout, obj.Body)
		}
	})

	errorCases := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown document", arc.env, []string{"status", "76086428-5-33-1043"}, 1, "76086428-5-33-1043: no state in the archive (bucket dte-archive at http://"},
		{"unknown document, json", arc.env, []string{"status", "--json", "76086428-5-33-1043"}, 1, "no state in the archive"},
		{"signed, nothing of its upload yet", arc.env, []string{"status", "76086428-5-33-1044"}, 1, ") yet: its DTE is signed (dte/76086428-5/33/1044.xml)"},
		{"bad dtekey", arc.env, []string{"status", "76086428-4-33-1042"}, 2, "check digit"},
		{"no dtekey", arc.env, []string{"status"}, 2, "want exactly one DTEKEY"},
		{"endpoint not a URL", arc.env, []string{"status", "--s3-endpoint", "127.0.0.1:7070", "76086428-5-33-1042"}, 1, "not an http(s) URL"},
		{"bad bucket name", arc.env, []string{"status", "--s3-bucket", "X", "76086428-5-33-1042"}, 1, "bucket \"X\""},
		{"missing bucket", arc.env, []string{"status", "--s3-bucket", "nope-bucket", "76086428-5-33-1042"}, 1, "archive misconfigured"},
		{"unreachable", map[string]string{"S3_ENDPOINT": "http://127.0.0.1:1", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"}, []string{"status", "--s3-timeout", "2s", "76086428-5-33-1042"}, 1, "127.0.0.1:1"},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runArchiveCmd(t, tt.env, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) || stdout != "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr:\n%s\nwant it to contain %q", code, tt.wantCode, stdout, stderr, tt.wantErr)
			}
		})
	}
}

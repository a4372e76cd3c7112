package archive_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestStateGolden pins the JSON shape of the state object, which other
// parts (dte status, operators reading the bucket) rely on.
func TestStateGolden(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	started := at.Add(2 * time.Second)
	clock := at.Add(time.Hour)
	mem := archivetest.NewMem()
	a := archive.New(mem, archive.WithClock(func() time.Time { return clock }))
	k := mustKey(t, mustRUT(t, "76086428-5"), 33, 1042)
	st, err := a.UpdateState(testCtx(t), k, func(s *archive.State) error {
		s.RequestDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		s.ArchiveKey = "dte/76086428-5/33/1042.xml"
		s.Digest = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
		s.EnvioKey = "envio/76086428-5/2025/03/SetDoc_1.xml"
		s.UploadStartedAt = &started
		s.TrackID = "0123456789"
		s.SIIState = "EPR"
		s.SIIMessage = "Envío procesado"
		s.Checks = 2
		s.Record(at, archive.StatusQueued, "", "ev-enqueue")
		s.Record(at.Add(time.Second), archive.StatusSigned, "", "ev-sign")
		s.Record(started.Add(time.Second), archive.StatusSent, "TrackID 0123456789", "ev-submit")
		s.Record(clock, archive.StatusAccepted, "EPR: Envío procesado", "ev-check-2")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := archive.StateObjectKey(k)
	got, _ := mem.Raw(key)
	path := filepath.Join("testdata", "state.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("state JSON differs from %s (go test -update rewrites it):\n%s", path, got)
	}
	var back archive.State
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("golden decodes to\n%+v\nwant\n%+v", back, st)
	}
}

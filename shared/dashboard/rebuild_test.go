package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/events"
)

// TestRebuildFromArchive writes states the way sign and submit do
// (archive.UpdateState) and rebuilds an empty projection from them; a
// stray object under state/ is counted as unreadable, not skipped.
func TestRebuildFromArchive(t *testing.T) {
	ctx := context.Background()
	mem := archivetest.NewMem()
	a := archive.New(mem)
	write := func(key string, steps ...func(*archive.State)) {
		t.Helper()
		for _, step := range steps {
			if _, err := a.UpdateState(ctx, mustKey(t, key), func(s *archive.State) error { step(s); return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	signed := func(at time.Time) func(*archive.State) {
		return func(s *archive.State) {
			s.ArchiveKey = "dte/" + s.DTEKey + ".xml"
			s.Record(at, archive.StatusSigned, "signed DTE", "ev-req")
		}
	}
	sent := func(at time.Time) func(*archive.State) {
		return func(s *archive.State) {
			s.TrackID, s.EnvioKey = "100", "envio/x/"+s.DTEKey+".xml"
			s.Record(at, archive.StatusSent, "TrackID 100", "")
		}
	}
	accepted := func(at time.Time) func(*archive.State) {
		return func(s *archive.State) { s.SIIState = "EPR"; s.Record(at, archive.StatusAccepted, "EPR: ok", "") }
	}
	write("76086428-5-33-1", signed(t0), sent(t0.Add(time.Second)), accepted(t0.Add(5*time.Second)))
	write("76086428-5-33-2", signed(t0), sent(t0.Add(time.Second)))
	write("76086428-5-61-3", signed(t0))
	// Signed and not yet uploaded: a DTE and no state (sign writes none).
	// A DTE with a state counts once.
	if _, err := a.PutDTE(ctx, mustKey(t, "76086428-5-33-4"), []byte("<DTE/>"), "req"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutDTE(ctx, mustKey(t, "76086428-5-33-1"), []byte("<DTE/>"), "req"); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Put(ctx, "state/76086428-5/33/x.json", []byte("{}"), archive.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Put(ctx, "state/76086428-5/33/9.json", []byte("not json"), archive.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	var progress [][2]int
	n, err := s.Rebuild(ctx, mem, func(read, total int) { progress = append(progress, [2]int{read, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || len(progress) == 0 || progress[len(progress)-1] != [2]int{5, 5} {
		t.Errorf("read %d states, progress %v; want 5 of 5", n, progress)
	}
	p, err := s.Project(ctx, t0.Add(time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts["accepted"] != 1 || p.Counts["sent"] != 1 || p.Counts["signed"] != 2 || p.Documents != 4 {
		t.Errorf("counts after the rebuild: %v", p.Counts)
	}
	if p.Unreadable != 2 || !strings.Contains(p.UnreadableAt, "state/76086428-5/33/") {
		t.Errorf("unreadable states: %d (%q), want 2", p.Unreadable, p.UnreadableAt)
	}
	d, err := s.Document(ctx, mustKey(t, "76086428-5-33-1"))
	if err != nil || d.EnvioKey == "" || d.TrackID != "100" || d.SIIState != "EPR" || len(d.History) != 3 {
		t.Errorf("rebuilt document: %+v, %v", d, err)
	}
	// The queue then brings the same steps as events: nothing counts twice,
	// and what is new moves the document on.
	for _, f := range lifecycle(t, "76086428-5-33-2", t0, events.ResultAccepted)[2:] {
		apply(t, s, f)
	}
	p, _ = s.Project(ctx, t0.Add(time.Minute), time.Hour)
	if p.Counts["accepted"] != 2 || p.Documents != 4 {
		t.Errorf("after the queue's events: %v", p.Counts)
	}
	for _, h := range p.Hours {
		if h.Counts["sent"] > 2 {
			t.Errorf("hour %s counts %d sent: a step counted twice", h.Label, h.Counts["sent"])
		}
	}
}

func TestStateKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"state/76086428-5/33/1042.json":  true,
		"state/76086428-5/33/01042.json": false,
		"state/76086428-4/33/1042.json":  false,
		"state/76086428-5/33/1042.xml":   false,
		"state/76086428-5/1042.json":     false,
		"state/76086428-5/x/1042.json":   false,
	} {
		_, err := stateKey(key)
		if (err == nil) != ok {
			t.Errorf("stateKey(%q): %v", key, err)
		}
	}
}

func TestDTEKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"dte/76086428-5/33/1042.xml":   true,
		"dte/76086428-5/33/01042.xml":  false,
		"dte/76086428-5/33/1042.json":  false,
		"state/76086428-5/33/1042.xml": false,
		"dte/76086428-5/1042.xml":      false,
	} {
		_, err := dteKey(key)
		if (err == nil) != ok {
			t.Errorf("dteKey(%q): %v", key, err)
		}
	}
}

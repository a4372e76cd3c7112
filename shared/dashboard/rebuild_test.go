package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dtekey"
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

// TestDocumentKeys: state and DTE keys are read back only in their
// canonical form.
func TestDocumentKeys(t *testing.T) {
	for _, tt := range []struct {
		key   string
		parse func(string) (dtekey.Key, error)
		ok    bool
	}{
		{"state/76086428-5/33/1042.json", stateKey, true},
		{"state/76086428-5/33/01042.json", stateKey, false},
		{"state/76086428-4/33/1042.json", stateKey, false},
		{"state/76086428-5/33/1042.xml", stateKey, false},
		{"state/76086428-5/1042.json", stateKey, false},
		{"state/76086428-5/x/1042.json", stateKey, false},
		{"dte/76086428-5/33/1042.xml", dteKey, true},
		{"dte/76086428-5/33/01042.xml", dteKey, false},
		{"dte/76086428-5/33/1042.json", dteKey, false},
		{"state/76086428-5/33/1042.xml", dteKey, false},
		{"dte/76086428-5/1042.xml", dteKey, false},
	} {
		if _, err := tt.parse(tt.key); (err == nil) != tt.ok {
			t.Errorf("%q: %v, want ok=%v", tt.key, err, tt.ok)
		}
	}
}

// TestSignedOnly: from the listings, a DTE without a state is signed at
// its time; one with a state adds nothing; a stray key, or one the listing
// gives no time for, is unreadable, never dropped.
func TestSignedOnly(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	b := signedOnly([]archive.ObjectInfo{
		{Key: "dte/76086428-5/33/1.xml", LastModified: at},
		{Key: "dte/76086428-5/33/2.xml", LastModified: at},
		{Key: "dte/76086428-5/33/x.xml", LastModified: at},
		{Key: "dte/76086428-5/33/3.xml"},
	}, []archive.ObjectInfo{{Key: "state/76086428-5/33/2.json"}})
	if len(b.Facts) != 1 || b.Facts[0].Key != mustKey(t, "76086428-5-33-1") || b.Facts[0].Status != archive.StatusSigned ||
		!b.Facts[0].At.Equal(at) || b.Facts[0].ArchiveKey != "dte/76086428-5/33/1.xml" {
		t.Errorf("facts %+v, want folio 1 signed at %s", b.Facts, at)
	}
	if len(b.Unreadable) != 2 || !strings.Contains(b.Unreadable[0], "x.xml") || !strings.Contains(b.Unreadable[1], "3.xml") {
		t.Errorf("unreadable %q, want the stray key and the one without a time", b.Unreadable)
	}
}

package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/rut"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// projectionFacts is a small day of the pipeline: three documents accepted,
// one rejected, one stuck in sent, one dead in submit, in two hours.
func projectionFacts(t *testing.T) []Fact {
	var facts []Fact
	facts = append(facts, lifecycle(t, "76086428-5-33-1", t0.Add(-90*time.Minute), events.ResultAccepted)...)
	facts = append(facts, lifecycle(t, "76086428-5-33-2", t0.Add(-30*time.Minute), events.ResultAccepted)...)
	facts = append(facts, lifecycle(t, "76086428-5-34-3", t0.Add(-20*time.Minute), events.ResultAccepted)...)
	facts = append(facts, lifecycle(t, "76086428-5-33-4", t0.Add(-10*time.Minute), events.ResultRejected)...)
	stuck := lifecycle(t, "76086428-5-33-5", t0.Add(-3*time.Hour), events.ResultAccepted)
	facts = append(facts, stuck[:3]...)
	dead := lifecycle(t, "76086428-5-33-6", t0.Add(-5*time.Minute), events.ResultAccepted)
	facts = append(facts, dead[:2]...)
	facts = append(facts, Fact{ID: "dead:76086428-5-33-6.sig:x", Kind: KindDead, Key: mustKey(t, "76086428-5-33-6"), At: t0.Add(-4 * time.Minute),
		Received: t0.Add(-4 * time.Minute), Status: "error", Stage: bus.QueueSubmit, Detail: "HTTP 503: SII down", MessageID: "76086428-5-33-6.sig"})
	return facts
}

// TestProjectionGolden applies a known day and compares what the page
// would show with testdata/projection.golden.json.
func TestProjectionGolden(t *testing.T) {
	s := openStore(t)
	res := apply(t, s, projectionFacts(t)...)
	if res.Duplicates != 0 {
		t.Errorf("%d duplicates in distinct facts", res.Duplicates)
	}
	p, err := s.Project(context.Background(), t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "projection.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("projection differs from %s (go test -update rewrites it after review):\n%s", golden, got)
	}
	// The same facts again (a redelivery, a rebuild overlapping the queue)
	// change nothing.
	res = apply(t, s, projectionFacts(t)...)
	if res.New != 0 {
		t.Errorf("%d facts applied twice", res.New)
	}
	again, err := s.Project(context.Background(), t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	again.Facts = p.Facts // the only counter of messages received
	if !reflect.DeepEqual(p, again) {
		t.Errorf("applying the same facts again changed the projection")
	}
}

// TestApplyOrderIndependent applies a lifecycle in every rotation: the
// document's status, timestamps and counters end the same.
func TestApplyOrderIndependent(t *testing.T) {
	facts := lifecycle(t, "76086428-5-33-1042", t0, events.ResultAccepted)
	var want Projection
	for r := range facts {
		s := openStore(t)
		order := append(append([]Fact(nil), facts[r:]...), facts[:r]...)
		// reversed too
		for i, j := 0, len(order)-1; r%2 == 1 && i < j; i, j = i+1, j-1 {
			order[i], order[j] = order[j], order[i]
		}
		for _, f := range order {
			apply(t, s, f) // one transaction each: the order is real
		}
		p, err := s.Project(context.Background(), t0.Add(time.Minute), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p.LastReceived = nil
		if r == 0 {
			want = p
			if p.Counts["accepted"] != 1 || p.Documents != 1 {
				t.Fatalf("in order: counts %v", p.Counts)
			}
			continue
		}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("rotation %d: projection differs:\n%+v\nwant\n%+v", r, p, want)
		}
	}
}

func TestSearchAndDocument(t *testing.T) {
	s := openStore(t)
	apply(t, s, projectionFacts(t)...)
	ctx := context.Background()
	tests := []struct {
		q    string
		want []string
	}{
		{"76086428-5-33-2", []string{"76086428-5-33-2"}},
		{"2", []string{"76086428-5-33-2"}},
		{"76086428-5", []string{"76086428-5-33-6", "76086428-5-33-5", "76086428-5-33-4", "76086428-5-34-3", "76086428-5-33-2", "76086428-5-33-1"}},
		{"76.086.428-5", []string{"76086428-5-33-6", "76086428-5-33-5", "76086428-5-33-4", "76086428-5-34-3", "76086428-5-33-2", "76086428-5-33-1"}},
		{"77654321-7", []string{"76086428-5-33-6", "76086428-5-33-5", "76086428-5-33-4", "76086428-5-34-3", "76086428-5-33-2", "76086428-5-33-1"}},
		{"99", nil},
		{"11111111-1-33-2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			docs, err := s.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				got = append(got, d.DTEKey)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Search(%q) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "factura", "76086428-4", "0"} {
		if _, err := s.Search(ctx, bad); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Search(%q): %v, want ErrBadQuery", bad, err)
		}
	}
	d, err := s.Document(ctx, mustKey(t, "76086428-5-33-6"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, h := range d.History {
		kinds = append(kinds, h.Kind)
	}
	if d.Status != "error" || d.ArchiveKey == "" || !reflect.DeepEqual(kinds, []string{"requested", "signed", "dead"}) || d.Detail != "dte.submit: HTTP 503: SII down" {
		t.Errorf("document: %+v, history %v", d, kinds)
	}
	if _, err := s.Document(ctx, mustKey(t, "76086428-5-33-99")); !errors.Is(err, ErrNoDocument) {
		t.Errorf("unknown document: %v", err)
	}
	hi, err := s.FolioUse(ctx, rut.New(76086428), 33, 1, 5)
	if err != nil || hi != 5 {
		t.Errorf("FolioUse(33, 1-5) = %d, %v; want 5", hi, err)
	}
	if hi, _ := s.FolioUse(ctx, rut.New(76086428), 52, 1, 100); hi != 0 {
		t.Errorf("FolioUse of an unused type = %d", hi)
	}
}

func TestDeadLettersResolved(t *testing.T) {
	s := openStore(t)
	apply(t, s, projectionFacts(t)...)
	ctx := context.Background()
	p, _ := s.Project(ctx, t0, time.Hour)
	if p.DeadParked != 1 || len(p.DeadLetters) != 1 || p.DeadLetters[0].Queue != bus.QueueSubmit {
		t.Fatalf("dead letters: %d %+v", p.DeadParked, p.DeadLetters)
	}
	if err := s.ResolveDeadLetters(ctx, []string{p.DeadLetters[0].MessageID}, map[string]bool{}, t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeadLetterByID(ctx, p.DeadLetters[0].ID)
	if err != nil || got.State != "replayed" {
		t.Errorf("after the replay: %+v, %v", got, err)
	}
	if p, _ = s.Project(ctx, t0, time.Hour); p.DeadParked != 0 {
		t.Errorf("%d still parked", p.DeadParked)
	}
}

func TestUnreadableCounted(t *testing.T) {
	s := openStore(t)
	if _, err := s.Apply(context.Background(), Batch{Unreadable: []string{"a", "b: last"}}); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Project(context.Background(), t0, time.Hour)
	if p.Unreadable != 2 || p.UnreadableAt != "b: last" {
		t.Errorf("unreadable %d %q", p.Unreadable, p.UnreadableAt)
	}
}

func TestPercentiles(t *testing.T) {
	hist := map[int]int64{}
	for i := 1; i <= 1000; i++ {
		hist[bucketOf(time.Duration(i)*time.Millisecond)]++
	}
	n, p50, p90, p99 := percentiles(hist)
	check := func(name string, got, want int64) {
		if float64(got) < 0.85*float64(want) || float64(got) > 1.15*float64(want) {
			t.Errorf("%s = %d ms, want %d ± 15 %%", name, got, want)
		}
	}
	if n != 1000 {
		t.Errorf("n = %d", n)
	}
	check("p50", p50, 500)
	check("p90", p90, 900)
	check("p99", p99, 990)
	if n, _, _, _ := percentiles(nil); n != 0 {
		t.Error("empty histogram")
	}
}

func TestSchemaVersionRebuilds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, lifecycle(t, "76086428-5-33-1", t0, events.ResultAccepted)...)
	if _, err := s.w.Exec(`UPDATE meta SET value = 'old' WHERE key = 'schema'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Errorf("a projection of another schema version must start empty (to be rebuilt): empty=%v %v", empty, err)
	}
}

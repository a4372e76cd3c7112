package submit

import (
	"context"
	"fmt"
	"testing"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/sii"
)

// TestSeededPathReadsNothing: cl.dte.signed as sign emits it (the signed
// DTE and the state it wrote) is uploaded with two writes to the archive
// (the envelope, which is the upload mark, and the TrackID) and no read,
// and the status
// check it schedules settles the document with one write. The same
// messages delivered again, their seeds stale by then, change nothing: no
// second upload, the same events.
func TestSeededPathReadsNothing(t *testing.T) {
	for _, tt := range []struct {
		name  string
		event func(*fixture, *testing.T) events.Event
	}{
		{"sign wrote no state", (*fixture).seededEvent},
		{"an older sign wrote the state and sent its seed", (*fixture).olderSeededEvent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := setup(t, "76086428-5-33-77")
			seededPathReadsNothing(t, x, tt.event(x, t))
		})
	}
}

func seededPathReadsNothing(t *testing.T, x *fixture, signed events.Event) {
	ctx := context.Background()
	gets, puts := x.mem.Calls("get"), x.mem.Calls("put")
	next, err := x.handle(ctx, signed)
	if err != nil || next == nil || next.Type() != events.TypeSubmitted {
		t.Fatalf("next %v err %v", next, err)
	}
	if g, p := x.mem.Calls("get")-gets, x.mem.Calls("put")-puts; g != 0 || p != 2 {
		t.Errorf("upload: %d reads and %d writes, want 0 and 2", g, p)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].key != events.TypeCheck {
		t.Fatalf("scheduled %+v", x.sched.got)
	}
	check := x.sched.got[0].e
	if d, _ := events.Decode[events.Check](check); d.State == nil {
		t.Fatal("the status check carries no state")
	}
	x.sched.got = nil
	x.sii.statuses = []*sii.UploadStatus{{Result: sii.Accepted, Estado: "EPR", Glosa: "Envio Procesado"}}
	gets, puts = x.mem.Calls("get"), x.mem.Calls("put")
	settled, err := x.handle(ctx, check)
	if err != nil || settled == nil || settled.Type() != events.TypeSettled {
		t.Fatalf("check: %v %v", settled, err)
	}
	if g, p := x.mem.Calls("get")-gets, x.mem.Calls("put")-puts; g != 0 || p != 1 {
		t.Errorf("check: %d reads and %d writes, want 0 and 1", g, p)
	}
	st := x.state(t)
	if st.Status != archive.StatusAccepted || st.TrackID != "4711" || st.Checks != 1 || st.RequestDigest != "req" || st.ArchiveKey == "" {
		t.Fatalf("state %+v", st)
	}
	var steps []string
	for _, h := range st.History {
		steps = append(steps, h.Status)
	}
	if fmt.Sprint(steps) != "[signed sent accepted]" {
		t.Fatalf("history %v, want [signed sent accepted]", steps)
	}

	// Delivered again: stale seeds, found out by the conditional writes.
	again, err := x.handle(ctx, signed)
	if err != nil || again == nil || again.Type() != events.TypeSettled || again.ID() != settled.ID() {
		t.Fatalf("signed again: %v %v, want %s", again, err, settled.ID())
	}
	if x.sii.uploads != 1 {
		t.Fatalf("%d uploads, want 1", x.sii.uploads)
	}
	x.sched.got = nil
	if again, err := x.handle(ctx, check); err != nil || again == nil || again.ID() != settled.ID() || len(x.sched.got) != 0 {
		t.Fatalf("check again: %v %v %+v", again, err, x.sched.got)
	}
}

// TestSeededCheckDeliveredAgain: a status check that carries the state
// and was processed (pending) is delivered again, its seed stale: the very
// copy sends the next check again, as without a seed (its next check may
// never have been published), and the SII is asked once more at most.
func TestSeededCheckDeliveredAgain(t *testing.T) {
	x := setup(t, "76086428-5-33-78")
	ctx := context.Background()
	if _, err := x.handle(ctx, x.seededEvent(t)); err != nil {
		t.Fatal(err)
	}
	check1 := x.sched.got[0].e
	x.sched.got = nil
	x.sii.statuses = []*sii.UploadStatus{{Result: sii.Pending, Estado: "SOK"}}
	if next, err := x.handle(ctx, check1); err != nil || next != nil || len(x.sched.got) != 1 {
		t.Fatalf("check 1: %v %v %+v", next, err, x.sched.got)
	}
	check2 := x.sched.got[0].e
	x.sched.got = nil
	if next, err := x.handle(ctx, check1); err != nil || next != nil || len(x.sched.got) != 1 || x.sched.got[0].e.ID() != check2.ID() {
		t.Fatalf("check 1 again: %v %v %+v, want check 2 (%s) sent again", next, err, x.sched.got, check2.ID())
	}
	if st := x.state(t); st.Checks != 1 {
		t.Fatalf("state: %d checks, want 1", st.Checks)
	}
}

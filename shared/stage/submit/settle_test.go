package submit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
)

// TestDuplicateWaitsForTheUploadInProgress: two deliveries of the same
// document at once (the same invoice requested twice). The second finds
// the first one's upload mark and waits for it, without asking the SII:
// the upload's own result settles the document, with its TrackID, and the
// second delivery then only re-announces it.
func TestDuplicateWaitsForTheUploadInProgress(t *testing.T) {
	x := setup(t, "76086428-5-33-11")
	ctx := context.Background()
	inUpload, release := make(chan struct{}), make(chan struct{})
	x.sii.onUpload = func() { close(inUpload); <-release }
	type result struct {
		next *events.Event
		err  error
	}
	first := make(chan result, 1)
	go func() {
		next, err := x.f.Handle(ctx, x.signedEvent(t))
		r := result{err: err}
		for _, em := range next {
			if em.Event.Type() == events.TypeSubmitted {
				ev := em.Event
				r.next = &ev
			}
		}
		first <- r
	}()
	<-inUpload
	next, err := x.handle(ctx, x.signedEvent(t))
	if err != nil || next != nil {
		t.Fatalf("the duplicate during the upload: next %v, err %v", next, err)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].key != events.QueueSubmit || x.sched.got[0].delay != testConfig.LostUploadGrace {
		t.Fatalf("the duplicate must look again once the upload's result is known: %+v", x.sched.got)
	}
	x.sii.mu.Lock()
	queried := x.sii.docQs
	x.sii.mu.Unlock()
	if queried != 0 {
		t.Fatalf("the duplicate asked the SII about a document still being uploaded (%d queries)", queried)
	}
	close(release)
	r := <-first
	if r.err != nil || r.next == nil {
		t.Fatalf("the upload: %+v", r)
	}
	if d, _ := events.Decode[events.Submitted](*r.next); d.TrackID != "4711" {
		t.Fatalf("submitted %+v", d)
	}
	// The duplicate comes back: it re-announces the same TrackID (the same
	// event), with the first status check since none was processed yet.
	x.sched.got = nil
	x.now = x.now.Add(testConfig.LostUploadGrace)
	again, err := x.handle(ctx, x.signedEvent(t))
	if err != nil || again == nil || again.ID() != r.next.ID() {
		t.Fatalf("the duplicate after the upload: %v %v", again, err)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].key != events.TypeCheck {
		t.Fatalf("scheduled %+v", x.sched.got)
	}
	// Once a check was processed, its chain carries on: no second chain.
	if _, err := x.arch.UpdateState(ctx, x.key, func(s *archive.State) error { s.Checks = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	x.sched.got = nil
	if again, err := x.handle(ctx, x.signedEvent(t)); err != nil || again == nil || len(x.sched.got) != 0 {
		t.Fatalf("after a check: %v %v, scheduled %+v", again, err, x.sched.got)
	}
	if x.sii.uploads != 1 || x.sii.docQs != 0 {
		t.Fatalf("%d uploads, %d document queries; want 1 and 0", x.sii.uploads, x.sii.docQs)
	}
	if st := x.state(t); st.TrackID != "4711" || st.Status != archive.StatusSent {
		t.Fatalf("state %+v", st)
	}
}

// TestTrackIDSurvivesAnArchiveOutage: the SII takes the upload and gives
// a TrackID, then the archive fails to record it. The failure carries the
// TrackID to the retried event, whose next attempt records it and
// announces it: never settled without it, never uploaded twice.
func TestTrackIDSurvivesAnArchiveOutage(t *testing.T) {
	x := setup(t, "76086428-5-33-12")
	ctx := context.Background()
	var once sync.Once
	x.sii.onUpload = func() { once.Do(func() { x.mem.FailNext("put", errors.New("connection refused")) }) }
	e := x.signedEvent(t)
	_, err := x.handle(ctx, e)
	var carry *stage.CarryError
	if err == nil || !errors.As(err, &carry) || carry.Ext[ExtTrackID] != "4711" {
		t.Fatalf("the failed record must carry the TrackID: %v", err)
	}
	// What marks the upload is the envelope, archived with its start; no
	// state was written.
	if st, _, err := x.arch.LoadState(ctx, x.key); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("state %+v, %v", st, err)
	}
	if envio := x.envelope(t); !envio.UploadStarted.Equal(x.now) {
		t.Fatalf("the envelope records its upload began at %s, want %s", envio.UploadStarted, x.now)
	}
	retried := e.Clone()
	retried.SetExtension(ExtTrackID, "4711")
	next, err := x.handle(ctx, retried)
	if err != nil || next == nil || next.Type() != events.TypeSubmitted {
		t.Fatalf("the retry: %v %v", next, err)
	}
	if d, _ := events.Decode[events.Submitted](*next); d.TrackID != "4711" {
		t.Fatalf("submitted %+v", d)
	}
	st := x.state(t)
	if st.TrackID != "4711" || st.Status != archive.StatusSent || st.UploadStartedAt != nil || st.EnvioKey != x.envelope(t).Key {
		t.Fatalf("state %+v", st)
	}
	if x.sii.uploads != 1 || x.sii.docQs != 0 {
		t.Fatalf("%d uploads, %d document queries", x.sii.uploads, x.sii.docQs)
	}
}

// TestCheckChainSurvivesALostPublish: a check whose result was recorded
// but whose next check could not be published (delivery answered 503) is
// delivered again: it sends the next check again instead of being dropped
// as a duplicate, so the chain goes on. Another copy of it, and the copy
// of the next check processed second, are still dropped: chains do not
// multiply.
func TestCheckChainSurvivesALostPublish(t *testing.T) {
	x := setup(t, "76086428-5-33-13")
	ctx := context.Background()
	if _, err := x.handle(ctx, x.signedEvent(t)); err != nil {
		t.Fatal(err)
	}
	x.sched.got = nil
	x.sii.statuses = []*sii.UploadStatus{{Result: sii.Pending, Estado: "SOK"}}
	check1 := checkEvent(t, x, 1)
	check1.SetTime(x.now)
	if next, err := x.handle(ctx, check1); err != nil || next != nil || len(x.sched.got) != 1 {
		t.Fatalf("check 1: %v %v %+v", next, err, x.sched.got)
	}
	check2a := x.sched.got[0].e
	x.sched.got = nil
	queries := x.sii.estUps
	// The same copy again: the next check is sent again, the SII not asked.
	if next, err := x.handle(ctx, check1); err != nil || next != nil || len(x.sched.got) != 1 {
		t.Fatalf("check 1 delivered again: %v %v %+v", next, err, x.sched.got)
	}
	check2b := x.sched.got[0].e
	if check2b.ID() != check2a.ID() || x.sii.estUps != queries {
		t.Fatalf("check 2 sent again as %s (first %s); SII asked %d more times", check2b.ID(), check2a.ID(), x.sii.estUps-queries)
	}
	// Another copy of check 1 (another time): dropped.
	other := checkEvent(t, x, 1)
	other.SetTime(x.now.Add(time.Second))
	x.sched.got = nil
	if next, err := x.handle(ctx, other); err != nil || next != nil || len(x.sched.got) != 0 {
		t.Fatalf("another copy of check 1: %v %v %+v", next, err, x.sched.got)
	}
	// Both copies of check 2 arrive: the first goes on, the second dies.
	check2b.SetTime(check2a.Time().Add(time.Millisecond))
	if next, err := x.handle(ctx, check2a); err != nil || next != nil || len(x.sched.got) != 1 {
		t.Fatalf("check 2: %v %v %+v", next, err, x.sched.got)
	}
	x.sched.got = nil
	if next, err := x.handle(ctx, check2b); err != nil || next != nil || len(x.sched.got) != 0 {
		t.Fatalf("the other copy of check 2: %v %v %+v", next, err, x.sched.got)
	}
	if st := x.state(t); st.Checks != 2 {
		t.Fatalf("state: %d checks", st.Checks)
	}
}

// TestNoteWaitsForALateDocument: a note whose referenced document the
// archive does not know yet (its signing is being retried) waits
// NOTE_REFERENCE_GRACE for it before deciding that it was not issued
// through this pipeline.
func TestNoteWaitsForALateDocument(t *testing.T) {
	x := setup(t, "76086428-5-61-24")
	ref, _ := dtekey.Parse("76086428-5-33-1043") // not in the archive
	ctx := context.Background()
	note := x.signedEvent(t, ref.String())
	x.now = x.now.Add(testConfig.NoteRefGrace - time.Second)
	if next, err := x.handle(ctx, note); err != nil || next != nil || x.sii.uploads != 0 {
		t.Fatalf("within the grace: next %v err %v uploads %d", next, err, x.sii.uploads)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].key != events.QueueSubmit || x.sched.got[0].delay != testConfig.NoteWait {
		t.Fatalf("not rescheduled: %+v", x.sched.got)
	}
	x.now = x.now.Add(time.Second)
	if next, err := x.handle(ctx, note); err != nil || next == nil || next.Type() != events.TypeSubmitted || x.sii.uploads != 1 {
		t.Fatalf("after the grace: next %v err %v uploads %d", next, err, x.sii.uploads)
	}
}

func TestGraceMustExceedEventTimeout(t *testing.T) {
	cfg := testConfig
	cfg.LostUploadGrace = cfg.EventTimeout
	if _, err := New(&fakeSII{}, fakeCred{}, &fakeEnveloper{}, nil, cfg, nil); err == nil {
		t.Fatal("a grace that does not exceed EVENT_TIMEOUT was accepted: an upload still running could be taken for lost")
	}
}

package submit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
)

// fakeSII scripts the SII's answers and counts uploads.
type fakeSII struct {
	mu        sync.Mutex
	uploads   int
	uploadErr []error // answers to the next uploads (nil = TrackID)
	statuses  []*sii.UploadStatus
	docStatus *sii.DocumentStatus
	docQs     int
	estUps    int
	onUpload  func() // called during each upload, as the SII takes it
}

func (f *fakeSII) Upload(_ context.Context, _ sii.Credential, env sii.Envelope) (*sii.Receipt, error) {
	f.mu.Lock()
	f.uploads++
	hook := f.onUpload
	f.mu.Unlock()
	if hook != nil {
		hook() // unlocked: it may block while the test looks on
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.uploadErr) > 0 {
		err := f.uploadErr[0]
		f.uploadErr = f.uploadErr[1:]
		if err != nil {
			return nil, err
		}
	}
	if len(env.XML) == 0 {
		return nil, errors.New("empty envelope")
	}
	return &sii.Receipt{TrackID: "4711"}, nil
}

func (f *fakeSII) GetUploadStatus(context.Context, sii.Credential, rut.RUT, string) (*sii.UploadStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.estUps++
	s := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	return s, nil
}

func (f *fakeSII) GetDocumentStatus(context.Context, sii.Credential, sii.DocumentQuery) (*sii.DocumentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docQs++
	return f.docStatus, nil
}

type fakeEnveloper struct{ n int }

func (e *fakeEnveloper) Envelope(_ context.Context, dte []byte, c Caratula, at time.Time) ([]byte, string, error) {
	e.n++
	return append([]byte("<EnvioDTE>"), dte...), c.SetID, nil
}

type scheduled struct {
	key   string
	e     events.Event
	delay time.Duration
}

// fakeScheduler records the delayed events a stage emits, with the routing
// key delivery publishes them with: their type, or submit's own queue for
// the events it sends back to itself.
type fakeScheduler struct{ got []scheduled }

type fakeCred struct{}

func (fakeCred) RUT() rut.RUT                                     { return rut.MustParse("11111111-1") }
func (fakeCred) ID() string                                       { return "test" }
func (fakeCred) SignSeed(context.Context, []byte) ([]byte, error) { return nil, nil }

type fixture struct {
	f     *Function
	mem   *archivetest.Mem
	sii   *fakeSII
	env   *fakeEnveloper
	sched *fakeScheduler
	arch  *archive.Archive
	now   time.Time
	key   dtekey.Key
}

// testConfig is the stage's timing in these tests.
var testConfig = Config{
	CheckDelays: []time.Duration{time.Second, 5 * time.Second}, CheckDeadline: time.Hour,
	NoteWait: 30 * time.Second, NoteDeadline: 2 * time.Hour, NoteRefGrace: 10 * time.Minute,
	LostUploadGrace: 2 * time.Minute, EventTimeout: 90 * time.Second,
}

func setup(t *testing.T, key string) *fixture {
	t.Helper()
	k, _ := dtekey.Parse(key)
	mem := archivetest.NewMem()
	x := &fixture{mem: mem, sii: &fakeSII{}, env: &fakeEnveloper{}, sched: &fakeScheduler{}, arch: archive.New(mem), now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), key: k}
	var err error
	x.f, err = New(x.sii, fakeCred{}, x.env, x.arch, testConfig, func() time.Time { return x.now })
	if err != nil {
		t.Fatal(err)
	}
	x.signed(t, k)
	return x
}

// handle runs the stage the way delivery does: it returns the event
// emitted at once (at most one) and records the delayed ones in x.sched.
func (x *fixture) handle(ctx context.Context, e events.Event) (*events.Event, error) {
	emits, err := x.f.Handle(ctx, e)
	if err != nil {
		return nil, err
	}
	var next *events.Event
	for _, em := range emits {
		if em.After <= 0 && !em.Redeliver {
			if next != nil {
				return nil, fmt.Errorf("two events at once: %s and %s", next.Type(), em.Event.Type())
			}
			ev := em.Event
			next = &ev
			continue
		}
		key := em.Event.Type()
		if em.Redeliver {
			key = events.QueueSubmit
		}
		x.sched.got = append(x.sched.got, scheduled{key, em.Event, em.After})
	}
	return next, nil
}

// signed archives a signed DTE for k, as sign leaves it (no state).
func (x *fixture) signed(t *testing.T, k dtekey.Key) {
	t.Helper()
	if _, err := x.arch.PutDTE(context.Background(), k, []byte("<DTE>"+k.String()+"</DTE>"), "req"); err != nil {
		t.Fatal(err)
	}
}

// seededEvent is cl.dte.signed as sign emits it: with the signed DTE and
// what the state will record of sign, no state.
func (x *fixture) seededEvent(t *testing.T) events.Event {
	t.Helper()
	return x.withData(t, x.signedEvent(t), func(d *events.Signed) {
		d.RequestDigest, d.SignedAt = "req", x.now.Add(-time.Second)
	})
}

// olderSeededEvent is cl.dte.signed as a sign that wrote the state
// emitted it: with the signed DTE and that state's seed (written here).
func (x *fixture) olderSeededEvent(t *testing.T) events.Event {
	t.Helper()
	doc, err := x.arch.GetDTE(context.Background(), x.key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := x.arch.UpdateStateFrom(context.Background(), x.key, &archive.Version{}, func(s *archive.State) error {
		s.DTEKey, s.ArchiveKey, s.Digest, s.RequestDigest = x.key.String(), doc.Key, doc.Digest, "req"
		s.Record(x.now, archive.StatusSigned, "", "")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return x.withData(t, x.signedEvent(t), func(d *events.Signed) { d.State = v.Seed() })
}

// withData is e with its cl.dte.signed data changed by fn, and the
// signed DTE's bytes in it.
func (x *fixture) withData(t *testing.T, e events.Event, fn func(*events.Signed)) events.Event {
	t.Helper()
	d, _ := events.Decode[events.Signed](e)
	doc, err := x.arch.GetDTE(context.Background(), x.key)
	if err != nil {
		t.Fatal(err)
	}
	d.DTE = doc.Body
	fn(&d)
	if err := e.SetData(events.ContentTypeJSON, d); err != nil {
		t.Fatal(err)
	}
	return e
}

func (x *fixture) signedEvent(t *testing.T, refs ...string) events.Event {
	t.Helper()
	doc, err := x.arch.GetDTE(context.Background(), x.key)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.New(events.ID(x.key, "signed", doc.Digest), events.TypeSigned, events.SourceSign, x.key, events.Signed{
		DTEKey: x.key.String(), ArchiveKey: doc.Key, Digest: doc.Digest, Receiver: "77654321-7", IssueDate: "2026-11-27", Total: 1190,
		Resolution: request.Resolution{Number: 0, Date: "2024-08-22"}, References: refs, Odoo: request.Odoo{Database: "odoo", MoveID: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.SetTime(x.now)
	return e
}

// envelope is the document's EnvioDTE as archived.
func (x *fixture) envelope(t *testing.T) archive.Document {
	t.Helper()
	id, err := archive.DocumentEnvioID(x.key)
	if err != nil {
		t.Fatal(err)
	}
	key, err := archive.EnvioObjectKey(x.key.Issuer, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), id)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := x.arch.GetDocument(context.Background(), key)
	if err != nil {
		t.Fatalf("the document's envelope at %s: %v", key, err)
	}
	return doc
}

func (x *fixture) state(t *testing.T) archive.State {
	t.Helper()
	st, _, err := x.arch.LoadState(context.Background(), x.key)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestUploadOnceAndAnnounce(t *testing.T) {
	x := setup(t, "76086428-5-33-1042")
	ctx := context.Background()
	next, err := x.handle(ctx, x.signedEvent(t))
	if err != nil || next == nil || next.Type() != events.TypeSubmitted {
		t.Fatalf("next %v err %v", next, err)
	}
	st := x.state(t)
	if st.TrackID != "4711" || st.Status != archive.StatusSent || st.UploadStartedAt != nil || st.EnvioKey == "" {
		t.Fatalf("state %+v", st)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].key != events.TypeCheck || x.sched.got[0].delay != time.Second {
		t.Fatalf("scheduled %+v", x.sched.got)
	}
	// The same message again (a lost ack): no second upload, same event.
	again, err := x.handle(ctx, x.signedEvent(t))
	if err != nil || again.ID() != next.ID() {
		t.Fatalf("redelivery: %v %v", again, err)
	}
	if x.sii.uploads != 1 || x.env.n != 1 {
		t.Fatalf("%d uploads, %d envelopes; want 1 and 1", x.sii.uploads, x.env.n)
	}
}

func TestLostAnswerAsksTheSIIFirst(t *testing.T) {
	timeout := &sii.Error{Op: "upload", Code: sii.CodeTimeout, Transient: true}
	t.Run("the SII has it: settled without a second upload", func(t *testing.T) {
		x := setup(t, "76086428-5-33-1")
		x.sii.uploadErr = []error{timeout}
		if _, err := x.handle(context.Background(), x.signedEvent(t)); err == nil || errs.IsPermanent(err) {
			t.Fatalf("a timed-out upload must be a transient error, got %v", err)
		}
		if x.state(t).UploadStartedAt == nil {
			t.Fatal("the upload mark was cleared although the file may have arrived")
		}
		x.sii.docStatus = &sii.DocumentStatus{Result: sii.Accepted, Received: true, Estado: "DOK", Glosa: "Documento Recibido por el SII. Datos Coinciden"}
		// Within the grace the upload may still be in progress: the
		// document is left to it, and the SII is not asked.
		if next, err := x.handle(context.Background(), x.signedEvent(t)); err != nil || next != nil || x.sii.docQs != 0 {
			t.Fatalf("within the grace: next %v err %v, %d document queries", next, err, x.sii.docQs)
		}
		x.now = x.now.Add(3 * time.Minute)
		next, err := x.handle(context.Background(), x.signedEvent(t))
		if err != nil || next.Type() != events.TypeSettled {
			t.Fatalf("next %v err %v", next, err)
		}
		if x.sii.uploads != 1 || x.state(t).Status != archive.StatusAccepted {
			t.Fatalf("%d uploads, state %s", x.sii.uploads, x.state(t).Status)
		}
	})
	t.Run("the SII does not know it: wait, then the same envelope again", func(t *testing.T) {
		x := setup(t, "76086428-5-33-2")
		x.sii.uploadErr = []error{timeout}
		_, _ = x.handle(context.Background(), x.signedEvent(t))
		envio := x.state(t).EnvioKey
		x.sii.docStatus = &sii.DocumentStatus{Result: sii.Rejected, Estado: "FAU"}
		next, err := x.handle(context.Background(), x.signedEvent(t))
		if err != nil || next != nil || x.sii.uploads != 1 || x.sii.docQs != 0 {
			t.Fatalf("within the grace period: next %v err %v uploads %d queries %d", next, err, x.sii.uploads, x.sii.docQs)
		}
		if len(x.sched.got) != 1 || x.sched.got[0].key != "dte.submit" {
			t.Fatalf("not rescheduled: %+v", x.sched.got)
		}
		x.now = x.now.Add(3 * time.Minute)
		next, err = x.handle(context.Background(), x.signedEvent(t))
		if err != nil || next.Type() != events.TypeSubmitted || x.sii.uploads != 2 {
			t.Fatalf("after the grace period: next %v err %v uploads %d", next, err, x.sii.uploads)
		}
		if x.state(t).EnvioKey != envio || x.env.n != 1 {
			t.Fatal("a second envelope was signed instead of resending the first")
		}
	})
	t.Run("refused connection: nothing arrived, no mark, the same envelope at once", func(t *testing.T) {
		x := setup(t, "76086428-5-33-3")
		x.sii.uploadErr = []error{&sii.Error{Op: "upload", Code: sii.CodeHTTP, HTTPStatus: 503, Transient: true}}
		_, _ = x.handle(context.Background(), x.signedEvent(t))
		st := x.state(t)
		if st.UploadStartedAt != nil {
			t.Fatal("an upload the SII answered with 503 left the lost-answer mark")
		}
		if st.EnvioKey != x.envelope(t).Key {
			t.Fatalf("the state does not record the envelope: %+v", st)
		}
		// The retry (its seed stale, and known to be a retry) resends.
		next, err := x.handle(stage.WithAttempt(context.Background(), 2), x.seededEvent(t))
		if err != nil || next == nil || next.Type() != events.TypeSubmitted {
			t.Fatalf("the retry: next %v err %v", next, err)
		}
		if x.sii.uploads != 2 || x.sii.docQs != 0 || x.env.n != 1 {
			t.Fatalf("%d uploads, %d document queries, %d envelopes; want 2, 0 and 1", x.sii.uploads, x.sii.docQs, x.env.n)
		}
	})
	t.Run("crash between the envelope and the upload: wait, ask, the same envelope", func(t *testing.T) {
		x := setup(t, "76086428-5-33-4")
		// The first delivery archived the envelope, then died before
		// sending it: nothing else of it is anywhere.
		crashed := errors.New("the process died")
		x.sii.onUpload = func() { panic(crashed) }
		func() {
			defer func() {
				if r := recover(); r != crashed {
					panic(r)
				}
			}()
			_, _ = x.handle(context.Background(), x.seededEvent(t))
		}()
		x.sii.onUpload, x.sii.uploads = nil, 0
		x.sii.docStatus = &sii.DocumentStatus{Result: sii.Rejected, Estado: "FAU"}
		x.now = x.now.Add(time.Minute)
		if next, err := x.handle(context.Background(), x.seededEvent(t)); err != nil || next != nil || x.sii.uploads != 0 || x.sii.docQs != 0 {
			t.Fatalf("within the grace: next %v err %v, %d uploads, %d queries", next, err, x.sii.uploads, x.sii.docQs)
		}
		if len(x.sched.got) != 1 || x.sched.got[0].delay != time.Minute {
			t.Fatalf("want another look when the grace ends, a minute later: %+v", x.sched.got)
		}
		x.now = x.now.Add(time.Minute)
		next, err := x.handle(context.Background(), x.signedEvent(t))
		if err != nil || next == nil || next.Type() != events.TypeSubmitted {
			t.Fatalf("after the grace: next %v err %v", next, err)
		}
		if x.sii.uploads != 1 || x.sii.docQs != 1 || x.env.n != 2 {
			t.Fatalf("%d uploads, %d queries, %d envelopes built; want 1, 1 and 2 (the second refused by the archive)", x.sii.uploads, x.sii.docQs, x.env.n)
		}
		if st := x.state(t); st.TrackID != "4711" || st.EnvioKey != x.envelope(t).Key {
			t.Fatalf("state %+v", st)
		}
	})
}

func TestUploadRefusedIsRejected(t *testing.T) {
	x := setup(t, "76086428-5-33-5")
	x.sii.uploadErr = []error{errs.Permanent(&sii.Error{Op: "upload", Code: "7", Message: "Error en Schema", Detail: []string{"Folio inválido"}})}
	next, err := x.handle(context.Background(), x.signedEvent(t))
	if err != nil || next == nil || next.Type() != events.TypeSettled {
		t.Fatalf("next %v err %v", next, err)
	}
	d, _ := events.Decode[events.Settled](*next)
	if d.Result != events.ResultRejected || d.SIIState != "STATUS 7" {
		t.Fatalf("settled %+v", d)
	}
}

func checkEvent(t *testing.T, x *fixture, attempt int) events.Event {
	t.Helper()
	e, err := events.New(events.ID(x.key, "check", "4711", string(rune('0'+attempt))), events.TypeCheck, events.SourceSubmit, x.key,
		events.Check{DTEKey: x.key.String(), TrackID: "4711", Attempt: attempt, Odoo: request.Odoo{Database: "odoo", MoveID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestChecksUntilFinal(t *testing.T) {
	x := setup(t, "76086428-5-33-7")
	ctx := context.Background()
	if _, err := x.handle(ctx, x.signedEvent(t)); err != nil {
		t.Fatal(err)
	}
	x.sched.got = nil
	x.sii.statuses = []*sii.UploadStatus{
		{Result: sii.Pending, Estado: "SOK"},
		{Result: sii.Accepted, Estado: "EPR", Glosa: "Envio Procesado", Counts: []sii.TypeCount{{Type: 33, Informed: 1, Accepted: 1}}},
	}
	if next, err := x.handle(ctx, checkEvent(t, x, 1)); err != nil || next != nil {
		t.Fatalf("pending: %v %v", next, err)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].delay != 5*time.Second {
		t.Fatalf("next check %+v", x.sched.got)
	}
	// A duplicated chain: attempt 1 again does nothing.
	if next, err := x.handle(ctx, checkEvent(t, x, 1)); err != nil || next != nil || len(x.sched.got) != 1 {
		t.Fatalf("duplicate check: %v %v %d", next, err, len(x.sched.got))
	}
	next, err := x.handle(ctx, checkEvent(t, x, 2))
	if err != nil || next == nil || next.Type() != events.TypeSettled {
		t.Fatalf("final: %v %v", next, err)
	}
	d, _ := events.Decode[events.Settled](*next)
	if d.Result != events.ResultAccepted || d.SIIState != "EPR" || x.state(t).Status != archive.StatusAccepted {
		t.Fatalf("settled %+v", d)
	}
	// A late check after the verdict re-announces the same verdict.
	again, err := x.handle(ctx, checkEvent(t, x, 3))
	if err != nil || again.ID() != next.ID() {
		t.Fatalf("late check: %v %v", again, err)
	}
}

func TestCheckDeadline(t *testing.T) {
	x := setup(t, "76086428-5-33-8")
	if _, err := x.handle(context.Background(), x.signedEvent(t)); err != nil {
		t.Fatal(err)
	}
	x.sii.statuses = []*sii.UploadStatus{{Result: sii.Pending, Estado: "REC"}}
	x.now = x.now.Add(2 * time.Hour)
	if _, err := x.handle(context.Background(), checkEvent(t, x, 1)); !errs.IsPermanent(err) {
		t.Fatalf("past the deadline: %v", err)
	}
}

func TestNoteWaitsForItsDocument(t *testing.T) {
	x := setup(t, "76086428-5-61-23")
	ref, _ := dtekey.Parse("76086428-5-33-1042")
	x.signed(t, ref) // the invoice is still in flight
	ctx := context.Background()
	note := x.signedEvent(t, ref.String())
	if next, err := x.handle(ctx, note); err != nil || next != nil || x.sii.uploads != 0 {
		t.Fatalf("in flight: next %v err %v uploads %d", next, err, x.sii.uploads)
	}
	if len(x.sched.got) != 1 || x.sched.got[0].key != "dte.submit" || x.sched.got[0].delay != 30*time.Second {
		t.Fatalf("not rescheduled: %+v", x.sched.got)
	}
	// Signed and not yet uploaded has no state, only the DTE: that is a
	// document in flight, not one issued elsewhere, even after the grace.
	x.now = x.now.Add(testConfig.NoteRefGrace + time.Second)
	if next, err := x.handle(ctx, note); err != nil || next != nil || x.sii.uploads != 0 {
		t.Fatalf("signed, no state, after the grace: next %v err %v uploads %d", next, err, x.sii.uploads)
	}
	setStatus := func(status string) {
		_, _ = x.arch.UpdateState(ctx, ref, func(s *archive.State) error { s.Record(x.now, status, "", ""); return nil })
	}
	setStatus(archive.StatusAccepted)
	if next, err := x.handle(ctx, note); err != nil || next.Type() != events.TypeSubmitted || x.sii.uploads != 1 {
		t.Fatalf("after acceptance: %v %v", next, err)
	}

	y := setup(t, "76086428-5-56-15")
	y.signed(t, ref)
	_, _ = y.arch.UpdateState(ctx, ref, func(s *archive.State) error { s.Record(y.now, archive.StatusRejected, "", ""); return nil })
	if _, err := y.handle(ctx, y.signedEvent(t, ref.String())); !errs.IsPermanent(err) || y.sii.uploads != 0 {
		t.Fatalf("referenced document rejected: %v (uploads %d)", err, y.sii.uploads)
	}
}

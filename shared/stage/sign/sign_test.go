package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/stage"
)

// handle runs the stage and returns the one event it emits, which is at
// once (sign emits nothing later).
func handle(ctx context.Context, f *Function, e events.Event) (*events.Event, error) {
	emits, err := f.Handle(ctx, e)
	if err != nil || len(emits) == 0 {
		return nil, err
	}
	if len(emits) != 1 || emits[0].After != 0 || emits[0].Redeliver {
		return nil, fmt.Errorf("sign emitted %+v, want one event at once", emits)
	}
	return &emits[0].Event, nil
}

// fakeSigner "signs" by writing the folio and a counter, so a second
// signature of the same request would show.
type fakeSigner struct {
	calls int
	err   error
}

func (s *fakeSigner) Sign(_ context.Context, req *request.Request, cafs []*caf.CAF) (*dte.Signed, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return &dte.Signed{XML: []byte(req.Key().String() + "#" + string(rune('0'+s.calls))), Key: req.Key()}, nil
}

func requested(t *testing.T, body []byte) events.Event {
	t.Helper()
	var r struct {
		Document struct {
			Type  int
			Folio int64
		}
		Issuer struct{ RUT string }
	}
	_ = json.Unmarshal(body, &r)
	k, err := dtekey.New(r.Issuer.RUT, r.Document.Type, r.Document.Folio)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.New("req-1", events.TypeRequested, events.SourceEnqueue, k, body)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../samples/requests/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setup(t *testing.T) (*Function, *fakeSigner, *archive.Archive) {
	t.Helper()
	v, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSigner{}
	a := archive.New(archivetest.NewMem())
	return New(v, s, a, time.Minute, nil, nil), s, a
}

func TestSignOnceAndReuse(t *testing.T) {
	f, _, a := setup(t)
	ctx := context.Background()
	body := sample(t, "nota-credito-61.json")
	next, err := handle(ctx, f, requested(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if next.Type() != events.TypeSigned {
		t.Fatalf("next %s", next.Type())
	}
	d, _ := events.Decode[events.Signed](*next)
	if d.ArchiveKey != "dte/76086428-5/61/23.xml" || d.Receiver != "77654321-7" || d.Total != 13912 || d.Odoo.MoveID != 505 {
		t.Fatalf("signed data %+v", d)
	}
	if len(d.References) != 1 || d.References[0] != "76086428-5-33-1042" {
		t.Fatalf("references %v", d.References)
	}
	k, _ := events.Key(*next)
	// One object written: the DTE, carrying its request's digest. The
	// state is submit's to create, from what the event carries.
	if d.State != nil || d.RequestDigest == "" || d.SignedAt.IsZero() {
		t.Fatalf("the event carries state %v, request digest %q, signed at %s", d.State, d.RequestDigest, d.SignedAt)
	}
	if _, _, err := a.LoadState(ctx, k); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("sign wrote a state: %v", err)
	}
	if doc, err := a.GetDTE(ctx, k); err != nil || doc.RequestDigest != d.RequestDigest || doc.Digest != d.Digest {
		t.Fatalf("archived DTE %+v, %v", doc, err)
	}
	// Redelivered, and the same request re-sent with other formatting.
	var generic map[string]any
	_ = json.Unmarshal(body, &generic)
	compact, _ := json.Marshal(generic)
	for _, b := range [][]byte{body, compact} {
		again, err := handle(ctx, f, requested(t, b))
		if err != nil || again.ID() != next.ID() {
			t.Fatalf("again: %v %v", again, err)
		}
	}
	// A redelivery may sign again, but only the first signature is
	// archived and announced.
	doc, err := a.GetDTE(ctx, k)
	if err != nil || doc.Digest != d.Digest {
		t.Fatalf("the archive holds %s (%v), the first delivery announced %s", doc.Digest, err, d.Digest)
	}
}

func TestSameFolioOtherContentIsRefused(t *testing.T) {
	f, _, _ := setup(t)
	ctx := context.Background()
	if _, err := handle(ctx, f, requested(t, sample(t, "factura-exenta-34.json"))); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(sample(t, "factura-exenta-34.json"), &m)
	m["receiver"].(map[string]any)["name"] = "Otro Cliente SpA"
	other, _ := json.Marshal(m)
	_, err := handle(ctx, f, requested(t, other))
	if !errs.IsPermanent(err) || !errors.Is(err, ErrFolioUsed) {
		t.Fatalf("err %v, want permanent ErrFolioUsed", err)
	}
}

// TestCrashAfterArchiveBeforeAnnouncing: sign crashed after archiving the
// DTE and before its event was published; the delivery that comes again
// (attempt 2) finds the archived DTE and uses it without signing again.
func TestCrashAfterArchiveBeforeAnnouncing(t *testing.T) {
	f, s, a := setup(t)
	ctx := stage.WithAttempt(context.Background(), 2)
	body := sample(t, "guia-despacho-52.json")
	e := requested(t, body)
	req, _ := f.validator.Parse(body)
	digest, _ := request.Digest(req)
	k, _ := events.Key(e)
	if _, err := a.PutDTE(ctx, k, []byte("signed before the crash"), digest); err != nil {
		t.Fatal(err)
	}
	next, err := handle(ctx, f, e)
	if err != nil || s.calls != 0 {
		t.Fatalf("err %v, %d signatures; want the archived DTE reused", err, s.calls)
	}
	d, _ := events.Decode[events.Signed](*next)
	if d.Digest != archive.Digest([]byte("signed before the crash")) {
		t.Fatal("the event does not announce the archived document")
	}
}

func TestPermanentFailures(t *testing.T) {
	f, s, _ := setup(t)
	ctx := context.Background()
	s.err = errs.Permanent(errors.New("folio 1042 outside every CAF"))
	if _, err := handle(ctx, f, requested(t, sample(t, "factura-33.json"))); !errs.IsPermanent(err) {
		t.Fatalf("signer's permanent error: %v", err)
	}
	var m map[string]any
	_ = json.Unmarshal(sample(t, "factura-33.json"), &m)
	m["totals"].(map[string]any)["total"] = 1
	bad, _ := json.Marshal(m)
	if _, err := handle(ctx, f, requested(t, bad)); !errs.IsPermanent(err) {
		t.Fatalf("invalid request: %v", err)
	}
	s.err = errors.New("S3 timeout")
	if _, err := handle(ctx, f, requested(t, sample(t, "factura-33.json"))); err == nil || errs.IsPermanent(err) {
		t.Fatalf("transient error: %v", err)
	}
}

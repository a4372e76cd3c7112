package enqueue

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

// gatedPublisher holds every publish until open says so, and counts them.
type gatedPublisher struct {
	calls atomic.Int32
	open  func() bool
}

func (p *gatedPublisher) PublishEvent(ctx context.Context, _ events.Event) error {
	p.calls.Add(1)
	for !p.open() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// TestIdenticalRequestsPublishedOnce: 20 copies of one request at once
// (the same invoice sent 20 times) are one publish while it is in flight;
// every copy gets the same 202.
func TestIdenticalRequestsPublishedOnce(t *testing.T) {
	now := time.Now()
	const copies = 20
	var arrived atomic.Int32
	pub := &gatedPublisher{open: func() bool { return arrived.Load() == copies }}
	h := newHandler(t, pub, now)
	h.arrived = func() { arrived.Add(1) }
	body := sample(t, "factura-33.json")
	var wg sync.WaitGroup
	answers := make([]Accepted, copies)
	codes := make([]int, copies)
	for i := range copies {
		wg.Go(func() {
			rec := h.do(call{body: body}, now)
			codes[i] = rec.Code
			_ = json.Unmarshal(rec.Body.Bytes(), &answers[i])
		})
	}
	wg.Wait()
	for i := range copies {
		if codes[i] != http.StatusAccepted || answers[i].EventID != answers[0].EventID || answers[i].EventID == "" {
			t.Fatalf("copy %d: %d %+v (first %+v)", i, codes[i], answers[i], answers[0])
		}
	}
	if n := pub.calls.Load(); n != 1 {
		t.Fatalf("%d publishes for %d identical requests in flight together, want 1", n, copies)
	}
}

// fixedArchive answers DTERequest with a fixed request digest, or an error,
// and LoadState from a fixed status (none: no state yet).
type fixedArchive struct {
	request string
	status  string
	err     error
}

func (a fixedArchive) DTERequest(context.Context, dtekey.Key) (string, error) {
	return a.request, a.err
}

func (a fixedArchive) LoadState(_ context.Context, k dtekey.Key) (archive.State, string, error) {
	if a.status == "" {
		return archive.State{}, "", archive.ErrNotFound
	}
	return archive.State{DTEKey: k.String(), Status: a.status}, `"etag"`, nil
}

// TestFolioAlreadySignedIs409: a different request for a folio the
// archive holds a DTE for is refused at once, naming the document and its
// status, and nothing is queued; the same request again, a free folio, or
// an archive that cannot answer go on (sign decides then).
func TestFolioAlreadySignedIs409(t *testing.T) {
	now := time.Now()
	body := sample(t, "factura-33.json")
	v, _ := request.NewValidator()
	req, err := v.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	same, err := request.Digest(req)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		arch       Archive
		want       int
		wantStatus string // of the document, in a 409
	}{
		{"signed from another request, accepted", fixedArchive{request: "other", status: archive.StatusAccepted}, http.StatusConflict, archive.StatusAccepted},
		{"signed from another request, not uploaded yet (no state)", fixedArchive{request: "other"}, http.StatusConflict, archive.StatusSigned},
		{"signed from this request", fixedArchive{request: same, status: archive.StatusSent}, http.StatusAccepted, ""},
		{"not signed yet", fixedArchive{err: archive.ErrNotFound}, http.StatusAccepted, ""},
		{"the archive does not answer", fixedArchive{err: errors.New("connection refused")}, http.StatusAccepted, ""},
		{"a real archive, empty", archive.New(archivetest.NewMem()), http.StatusAccepted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &recordingPublisher{}
			h := newHandler(t, pub, now)
			h.Archive, h.ArchiveTimeout = tt.arch, time.Second
			rec := h.do(call{body: body}, now)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != http.StatusConflict {
				if len(pub.got) != 1 {
					t.Fatalf("%d published, want 1", len(pub.got))
				}
				return
			}
			var c Conflict
			if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			if rec.Header().Get("Content-Type") != "application/problem+json" || c.DTEKey != req.Key().String() || c.DocumentStatus != tt.wantStatus ||
				c.Problem.Status != http.StatusConflict || c.Detail == "" || len(pub.got) != 0 {
				t.Fatalf("409 %+v, %d published", c, len(pub.got))
			}
		})
	}
}

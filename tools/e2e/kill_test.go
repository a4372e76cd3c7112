package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/tools/siisim"
)

// crashAndRestart SIGKILLs a function once held is closed (the proxy holds
// the function at the point the test wants), lets the proxy go and starts
// the function again.
func (s *stack) crashAndRestart(fn string, held <-chan struct{}, p *holdProxy) {
	s.t.Helper()
	select {
	case <-held:
	case <-time.After(settleTimeout):
		s.t.Fatalf("%s never reached the point where the test crashes it", fn)
	}
	if err := s.Kill(fn); err != nil {
		s.t.Fatal(err)
	}
	p.disarm()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Restart(ctx, fn); err != nil {
		s.t.Fatal(err)
	}
}

// TestKillSubmitMidUpload crashes submit (SIGKILL) in the middle of its
// upload, its SII traffic going through a proxy that holds the upload at
// the chosen point. Submit recorded that the upload started; restarted and
// handed the message again, it asks the SII about the document
// (QueryEstDte) before anything else. Either way the SII ends up with
// exactly one upload of the document.
//
//   - The SII took the file and its answer (the TrackID) was lost with the
//     process: the SII says it has the document (DOK) and submit settles it
//     without uploading again. The price: the pipeline never learns the
//     TrackID, so Odoo goes from signed to accepted without `sent`.
//   - The file never reached the SII: it says it does not have it (FAU);
//     submit waits LOST_UPLOAD_GRACE (6 s here) since the upload began, in
//     case it is still in progress or the SII is slow, asks, then uploads
//     the same archived envelope again, and the document goes the usual
//     way.
func TestKillSubmitMidUpload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		after bool   // the proxy forwards the upload, then holds the answer
		grace string // LOST_UPLOAD_GRACE
		want  want
		state string // the SII state the archive ends with
	}{
		{
			name: "answer lost after the SII took the file", after: true, grace: "12s",
			want:  want{noTrackID: true, applied: []string{"queued", "signed", "accepted"}},
			state: "DOK",
		},
		{
			name: "file never reached the SII", after: false, grace: "6s",
			want:  want{},
			state: "EPR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newHoldProxy(t)
			// The grace must exceed EVENT_TIMEOUT: an upload cannot run longer.
			s := newStack(t, stackOptions{functionEnv: map[string][]string{"submit": {"SII_ENV=" + p.URL(), "LOST_UPLOAD_GRACE=" + tt.grace, "EVENT_TIMEOUT=5s"}}})
			p.setTarget(t, s.SIIURL)
			held := p.arm(http.MethodPost, siisim.PathUpload, tt.after)
			d := s.request(33, nil)
			s.send(d)
			s.crashAndRestart("submit", held, p)
			s.waitStatus("accepted", d)
			s.checkLedger([]doc{d}, func(doc) want { return tt.want })
			stats := s.SII.Stats()
			if stats[siisim.OpUpload] != 1 || stats[siisim.OpGetEstDte] < 1 {
				t.Errorf("SII calls %v: want 1 upload and at least one document query", stats)
			}
			if st, err := s.state(d.key); err != nil || st.SIIState != tt.state {
				t.Errorf("settled with SII state %q (%v), want %q", st.SIIState, err, tt.state)
			}
			// The delivery cut off by the crash got no answer and was retried.
			if ds := s.signedDeliveries(d); len(ds) < 2 || ds[0].Action != "retry" || ds[0].Status != 0 {
				t.Errorf("deliveries of the signed event: %+v; want the first one cut off and retried", ds)
			}
		})
	}
}

// TestKillSignMidWork crashes sign after it archived the signed DTE and
// before it announced it (its S3 traffic goes through a proxy that lets
// that write reach S3 and holds the answer). Restarted and handed the
// request again, sign finds its signed DTE in the archive and uses it: one
// signature, one upload, and the state submit creates names the request.
func TestKillSignMidWork(t *testing.T) {
	t.Parallel()
	p := newHoldProxy(t)
	p.setTarget(t, envOr("TEST_S3_ENDPOINT", "http://127.0.0.1:7070"))
	s := newStack(t, stackOptions{functionEnv: map[string][]string{"sign": {"S3_ENDPOINT=" + p.URL()}}})
	d := s.request(33, nil)
	dtePath := fmt.Sprintf("/%s/dte/%s/%d/%d.xml", testBucket, d.key.Issuer, d.key.Type, d.key.Folio)
	held := p.arm(http.MethodPut, dtePath, true)
	s.send(d)
	s.crashAndRestart("sign", held, p)
	s.waitStatus("accepted", d)
	s.checkLedger([]doc{d}, nil)
	if puts := p.answered(http.MethodPut, dtePath); !slices.Equal(puts, []int{200}) {
		t.Errorf("PUTs of the signed DTE answered %v, want one, [200]: a second signature was attempted", puts)
	}
	if st, err := s.state(d.key); err != nil || st.RequestDigest == "" || st.ArchiveKey == "" || len(st.History) == 0 || st.History[0].Status != "signed" {
		t.Errorf("the state submit created: %+v, %v; want the request's digest, the DTE's key and the signed step", st, err)
	}
	ds := s.deliveries(func(x delivery) bool { return x.Queue == bus.QueueSign && x.DTEKey == d.key.String() })
	if len(ds) < 2 || ds[0].Action != "retry" || ds[0].Status != 0 || ds[len(ds)-1].Action != "delivered" {
		t.Errorf("deliveries of the request to sign: %+v; want the first one cut off, retried, then delivered", ds)
	}
}

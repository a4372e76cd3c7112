package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/tools/odoofake"
	"github.com/dtecl/pipeline/tools/siisim"
)

// signedDeliveries lists the dispatcher's deliveries of a document's
// cl.dte.signed event to submit (the upload), in order.
func (s *stack) signedDeliveries(d doc) []delivery {
	return s.deliveries(func(x delivery) bool {
		return x.Queue == bus.QueueSubmit && x.DTEKey == d.key.String() && strings.Contains(x.MessageID, ".signed.")
	})
}

// TestSIITransientFailures makes the SII fail for a while and expects the
// document accepted with one upload, the failures ridden out by submit's
// own retries (docs/design.md, "Retries").
//
// One delivery makes one call of each kind (the SII client does not retry
// a 5xx or an HTML page itself; the token is fetched once and cached), so
// N failing calls cost N attempts. The fast tier has 3 attempts, 1 s and
// 5 s apart, unseen by Odoo: N = 2 is ridden out there. N = 4 goes on into
// the slow tier (5 s here, SLOW_RETRY_DELAYS), where each wait is told to
// Odoo as retrying, with the reason and the next attempt's time.
//
// Every retry is a new message back to dte.submit through the delay queues,
// and each delivery is answered 2xx: the platform's own retries (503) are
// left for when even the retry cannot be published.
func TestSIITransientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		faults  siisim.Faults
		op      string          // the failing operation
		n       int             // how many calls fail
		applied []string        // what Odoo applies
		waits   []time.Duration // between the attempts (lower bounds)
	}{
		{"upload answers 500", siisim.Faults{Fail5xx: 2, Ops: []string{siisim.OpUpload}}, siisim.OpUpload, 2,
			[]string{"queued", "signed", "sent", "accepted"}, []time.Duration{time.Second, 5 * time.Second}},
		{"upload answers an HTML 503 page", siisim.Faults{HTML: 2, Ops: []string{siisim.OpUpload}}, siisim.OpUpload, 2,
			[]string{"queued", "signed", "sent", "accepted"}, []time.Duration{time.Second, 5 * time.Second}},
		// A fresh submit has no token yet: its first deliveries ask for a seed.
		{"getSeed answers 500", siisim.Faults{Fail5xx: 2, Ops: []string{siisim.OpGetSeed}}, siisim.OpGetSeed, 2,
			[]string{"queued", "signed", "sent", "accepted"}, []time.Duration{time.Second, 5 * time.Second}},
		{"upload fails into the slow tier", siisim.Faults{Fail5xx: 4, Ops: []string{siisim.OpUpload}}, siisim.OpUpload, 4,
			[]string{"queued", "signed", "retrying", "sent", "accepted"}, []time.Duration{time.Second, 5 * time.Second, 5 * time.Second, 10 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, stackOptions{})
			if err := s.SII.SetFaults(tt.faults); err != nil {
				t.Fatal(err)
			}
			d := s.request(33, nil)
			s.send(d)
			s.waitStatus("accepted", d)
			s.checkLedger([]doc{d}, func(doc) want { return want{applied: tt.applied} })
			if got := s.SII.Stats()[tt.op]; got != tt.n+1 {
				t.Errorf("%s was called %d times, want %d (%d failures, then success)", tt.op, got, tt.n+1, tt.n)
			}
			if f := s.SII.Faults(); f.Fail5xx != 0 || f.HTML != 0 {
				t.Errorf("faults left unused: %+v", f)
			}
			ds := s.signedDeliveries(d)
			if len(ds) != tt.n+1 {
				t.Fatalf("%d deliveries of the signed event to submit, want %d: %+v", len(ds), tt.n+1, ds)
			}
			for i, x := range ds {
				if x.Attempt != 1 || x.Action != "delivered" || x.Status != 200 {
					t.Errorf("delivery %d: attempt %d %s (HTTP %d), want a first attempt delivered (HTTP 200): submit retries itself", i+1, x.Attempt, x.Action, x.Status)
				}
				// A lower bound only: waiting longer is never wrong. The
				// slack covers an earlier delivery that took longer (the
				// first one also fetches a token).
				if i > 0 && x.Time.Sub(ds[i-1].Time) < tt.waits[i-1]*4/5 {
					t.Errorf("delivery %d came %s after delivery %d; the wait is %s", i+1, x.Time.Sub(ds[i-1].Time), i, tt.waits[i-1])
				}
			}
			retries := strings.Count(s.functionLog("submit"), `"result":"retry"`) + strings.Count(s.functionLog("submit"), `"result":"retrying"`)
			if retries != tt.n {
				t.Errorf("submit logged %d retries, want %d", retries, tt.n)
			}
			if tt.n > 2 {
				var told []odoofake.Callback
				for _, c := range s.callbacksOf(d.move) {
					if c.Status == "retrying" {
						told = append(told, c)
					}
				}
				if len(told) != tt.n-2 {
					t.Fatalf("Odoo was told retrying %d times, want %d (each slow-tier wait)", len(told), tt.n-2)
				}
				for _, c := range told {
					if !strings.Contains(c.Message, callback.StageName("submit")) || !strings.Contains(c.Message, "Próximo intento automático") || c.NextAttemptAt == "" {
						t.Errorf("retrying told as %q (next attempt %q)", c.Message, c.NextAttemptAt)
					}
				}
			}
		})
	}
}

// TestSIIRejection has the SII reject a document, and then a whole
// envelope: Odoo is told `rejected` with the SII's state and text, after
// one upload and no retries.
//
// The SII's free-text reason for rejecting one document (the simulator's
// Reject value) does not travel back: getEstUp answers only the counts
// (docs/sii-protocol.md §3.1; the per-document reason comes by e-mail), so what
// Odoo can show is the state, the glosa and the counts.
func TestSIIRejection(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	tests := []struct {
		name     string
		typ      int
		faults   func(d doc) siisim.Faults
		siiState string
		message  []string // in Odoo's message
		want     want
	}{
		{
			name: "document rejected",
			typ:  33,
			faults: func(d doc) siisim.Faults {
				return siisim.Faults{Reject: map[string]string{d.key.String(): "monto total no cuadra"}}
			},
			siiState: "EPR",
			message:  []string{"Envio Procesado", "1 rechazados"},
			want:     want{status: "rejected", verdict: siisim.DocRejected},
		},
		{
			name:     "envelope rejected: schema",
			typ:      34,
			faults:   func(doc) siisim.Faults { return siisim.Faults{RejectEnvelope: "RSC"} },
			siiState: "RSC",
			message:  []string{"Rechazado por Error en Schema"},
			want:     want{status: "rejected", envelope: "RSC"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.in(t)
			d := s.request(tt.typ, nil)
			if err := s.SII.SetFaults(tt.faults(d)); err != nil {
				t.Fatal(err)
			}
			uploads := s.SII.Stats()[siisim.OpUpload]
			s.send(d)
			s.waitStatus("rejected", d)
			s.checkLedger([]doc{d}, func(doc) want { return tt.want })
			cbs := s.callbacksOf(d.move)
			last := cbs[len(cbs)-1]
			if last.Status != "rejected" || last.SIIState != tt.siiState {
				t.Errorf("last callback %s (SII state %q), want rejected (%q)", last.Status, last.SIIState, tt.siiState)
			}
			for _, m := range tt.message {
				if !strings.Contains(last.Message, m) {
					t.Errorf("Odoo's message %q lacks %q", last.Message, m)
				}
			}
			if got := s.SII.Stats()[siisim.OpUpload] - uploads; got != 1 {
				t.Errorf("%d upload calls, want 1", got)
			}
			// No retries: every message about the document was delivered
			// at its first attempt.
			for _, x := range s.deliveries(func(x delivery) bool { return x.DTEKey == d.key.String() }) {
				if x.Attempt != 1 || x.Action != "delivered" {
					t.Errorf("retried: %+v", x)
				}
			}
		})
	}
}

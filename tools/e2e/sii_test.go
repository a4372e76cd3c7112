package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/tools/siisim"
)

// signedDeliveries lists the dispatcher's deliveries of a document's
// cl.dte.signed event to submit (the upload), in order.
func (s *stack) signedDeliveries(d doc) []delivery {
	return s.deliveries(func(x delivery) bool {
		return x.Queue == bus.QueueSubmit && x.DTEKey == d.key.String() && strings.Contains(x.MessageID, ".signed.")
	})
}

// TestSIITransientFailures makes the SII fail for a while, fewer times
// than the retry budget, and expects the document accepted with one upload.
//
// What N means: the dispatcher gives a message 3 deliveries in all, 1 s and
// 5 s apart (through the delay queues); the SII client does not retry a
// 5xx or an HTML page itself (it only renews a refused token once, in
// process), and one delivery makes one call of each kind (the token is
// fetched once and cached). So N failing calls cost N deliveries: N = 2
// (Attempts − 1) is the most the pipeline rides out; N = 3 dead-letters
// (TestSIIDownDeadLetterReplay).
func TestSIITransientFailures(t *testing.T) {
	t.Parallel()
	const n = 2
	tests := []struct {
		name   string
		faults siisim.Faults
		op     string // the failing operation
	}{
		{"upload answers 500", siisim.Faults{Fail5xx: n, Ops: []string{siisim.OpUpload}}, siisim.OpUpload},
		{"upload answers an HTML 503 page", siisim.Faults{HTML: n, Ops: []string{siisim.OpUpload}}, siisim.OpUpload},
		// A fresh submit has no token yet: its first deliveries ask for a seed.
		{"getSeed answers 500", siisim.Faults{Fail5xx: n, Ops: []string{siisim.OpGetSeed}}, siisim.OpGetSeed},
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
			s.checkLedger([]doc{d}, nil)
			if got := s.SII.Stats()[tt.op]; got != n+1 {
				t.Errorf("%s was called %d times, want %d (%d failures, then success)", tt.op, got, n+1, n)
			}
			if f := s.SII.Faults(); f.Fail5xx != 0 || f.HTML != 0 {
				t.Errorf("faults left unused: %+v", f)
			}
			// Delivery 1 and 2 fail with 503 and are retried after 1 s and
			// 5 s; delivery 3 succeeds.
			ds := s.signedDeliveries(d)
			backoff := []time.Duration{time.Second, 5 * time.Second}
			if len(ds) != n+1 {
				t.Fatalf("%d deliveries of the signed event to submit, want %d: %+v", len(ds), n+1, ds)
			}
			for i, x := range ds {
				wantAction, wantStatus := "retry", 503
				if i == n {
					wantAction, wantStatus = "delivered", 200
				}
				if x.Attempt != i+1 || x.Action != wantAction || x.Status != wantStatus {
					t.Errorf("delivery %d: attempt %d %s (HTTP %d), want attempt %d %s (HTTP %d)", i+1, x.Attempt, x.Action, x.Status, i+1, wantAction, wantStatus)
				}
				// A lower bound only: waiting longer is never wrong. The
				// slack covers an earlier delivery that took longer (the
				// first one also fetches a token).
				if i > 0 && x.Time.Sub(ds[i-1].Time) < backoff[i-1]*4/5 {
					t.Errorf("delivery %d came %s after delivery %d; the backoff is %s", i+1, x.Time.Sub(ds[i-1].Time), i, backoff[i-1])
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

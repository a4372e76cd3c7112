package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dtecl/pipeline/shared/stage/enqueue"
	"github.com/dtecl/pipeline/shared/stage/sign"
)

// TestSameInvoiceTwice enqueues one invoice three times at once: the same
// bytes twice and the same request formatted differently. One document
// comes out: one signature, one upload, one TrackID. Then a different
// invoice under the same dtekey (another Odoo move) is refused at once by
// enqueue (409, naming the document and its status): the archive knows
// the folio, nothing is queued, and the first document stays accepted.
// Two different invoices for a new folio sent at the same time, before
// either is signed, cannot be told apart by enqueue: sign signs one and
// refuses the other for good, and Odoo shows that move `error`, "folio
// already used".
func TestSameInvoiceTwice(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	d := s.request(33, nil)
	var m map[string]any
	if err := json.Unmarshal(d.body, &m); err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(m, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	first, again, reformatted := s.send(d), s.send(d), s.sendBody(d, indented)
	if first.EventID != again.EventID {
		t.Errorf("the same bytes twice made events %s and %s", first.EventID, again.EventID)
	}
	if reformatted.EventID == first.EventID {
		t.Errorf("differently formatted bytes made the same event %s", first.EventID)
	}
	s.waitStatus("accepted", d)

	other := s.request(33, func(m map[string]any) {
		m["odoo"].(map[string]any)["move_id"] = 9501
		m["lines"].([]any)[0].(map[string]any)["description"] = "Otra factura con el mismo folio"
	})
	if other.key != d.key || other.move == d.move {
		t.Fatalf("the second invoice is %s move %d", other.key, other.move)
	}
	s.Odoo.AddMove(other.move, other.key.String())
	status, answer, err := s.post(other.body)
	if err != nil {
		t.Fatal(err)
	}
	var c enqueue.Conflict
	if err := json.Unmarshal(answer, &c); err != nil || status != http.StatusConflict || c.DTEKey != d.key.String() || c.DocumentStatus != "accepted" {
		t.Fatalf("a different invoice for a folio already accepted: %d %s (%v); want 409 naming %s, accepted", status, answer, err, d.key)
	}
	if cbs := s.callbacksOf(other.move); len(cbs) != 0 {
		t.Errorf("a refused request reached Odoo: %s", callbackList(cbs))
	}
	s.checkLedger([]doc{d}, nil)
	queued := map[string]bool{}
	for _, c := range s.callbacksOf(d.move) {
		if c.Status == "queued" {
			queued[c.EventID] = true
		}
	}
	if len(queued) != 2 {
		t.Errorf("Odoo got %d distinct queued events for move %d, want 2 (the same bytes are one event)", len(queued), d.move)
	}

	// Two different invoices for folio 77 at once: one is issued, the
	// other told `error` by sign.
	a := s.request(33, func(m map[string]any) {
		m["document"].(map[string]any)["folio"] = 77
		m["odoo"].(map[string]any)["move_id"] = 9503
	})
	b := s.request(33, func(m map[string]any) {
		m["document"].(map[string]any)["folio"] = 77
		m["odoo"].(map[string]any)["move_id"] = 9502
		m["lines"].([]any)[0].(map[string]any)["description"] = "Otra factura con el folio 77"
	})
	var wg sync.WaitGroup
	for _, x := range []doc{a, b} {
		s.Odoo.AddMove(x.move, x.key.String())
		wg.Go(func() {
			if _, err := s.enqueue(x.body); err != nil {
				t.Errorf("enqueue %s move %d: %v", x.key, x.move, err)
			}
		})
	}
	wg.Wait()
	waitFor(t, settleTimeout, "one invoice for folio 77 accepted, the other in error", func() (bool, string) {
		ma, _ := s.Odoo.Move(a.move)
		mb, _ := s.Odoo.Move(b.move)
		return (ma.Status == "accepted" && mb.Status == "error") || (ma.Status == "error" && mb.Status == "accepted"),
			"move " + ma.Status + ", move " + mb.Status
	})
	issued, refused := a, b
	if mb, _ := s.Odoo.Move(b.move); mb.Status == "accepted" {
		issued, refused = b, a
	}
	s.checkLedger([]doc{issued}, nil)
	var seq []string
	var msg string
	for _, c := range s.callbacksOf(refused.move) {
		if c.Result == "applied" {
			seq, msg = append(seq, c.Status), c.Message
		}
	}
	// notify handles events concurrently: when "error" arrives before the
	// "queued" of the same second, Odoo rightly ignores the late "queued".
	inOrder := slices.Equal(seq, []string{"queued", "error"}) || slices.Equal(seq, []string{"error"})
	if !inOrder || !strings.Contains(msg, sign.ErrFolioUsed.Error()) {
		t.Errorf("move %d: Odoo applied %v, last message %q; want (queued,) error naming %q", refused.move, seq, msg, sign.ErrFolioUsed)
	}
	if n := s.SII.Stats()["upload"]; n != 2 {
		t.Errorf("%d upload calls, want 2 (folios 1042 and 77)", n)
	}
}

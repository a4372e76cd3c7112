package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/stage/sign"
)

// TestSameInvoiceTwice enqueues one invoice three times at once: the same
// bytes twice and the same request formatted differently. One document
// comes out: one signature, one upload, one TrackID. Then a different
// invoice under the same dtekey (another Odoo move) is refused for good:
// Odoo shows that move `error`, "folio already used", and the first
// document stays accepted.
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
	s.send(other)
	s.waitStatus("error", other)

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
	var seq []string
	var msg string
	for _, c := range s.callbacksOf(other.move) {
		if c.Result == "applied" {
			seq, msg = append(seq, c.Status), c.Message
		}
	}
	if !slices.Equal(seq, []string{"queued", "error"}) || !strings.Contains(msg, sign.ErrFolioUsed.Error()) {
		t.Errorf("move %d: Odoo applied %v, last message %q; want queued, error naming %q", other.move, seq, msg, sign.ErrFolioUsed)
	}
	if n := s.SII.Stats()["upload"]; n != 1 {
		t.Errorf("%d upload calls, want 1", n)
	}
}

package dashboard

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

// t0 is the tests' clock: a fixed instant, so that hours and golden files
// do not depend on when the tests run.
var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustKey(t testing.TB, s string) dtekey.Key {
	t.Helper()
	k, err := dtekey.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// event builds a real event of the pipeline, serialised as on the wire.
func event(t testing.TB, k dtekey.Key, typ, id string, at time.Time, data any) []byte {
	t.Helper()
	e, err := events.New(id, typ, "/test", k, data)
	if err != nil {
		t.Fatal(err)
	}
	e.SetTime(at)
	b, err := events.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lifecycle is the facts of one document from request to verdict, each
// stage a few seconds after the last.
func lifecycle(t testing.TB, key string, start time.Time, result string) []Fact {
	t.Helper()
	k := mustKey(t, key)
	odoo := request.Odoo{Database: "odoo", MoveID: 1}
	raws := [][]byte{
		event(t, k, events.TypeRequested, key+".req", start, map[string]any{"receiver": map[string]any{"rut": "77654321-7"}, "totals": map[string]any{"total": 119000}, "odoo": odoo}),
		event(t, k, events.TypeSigned, key+".sig", start.Add(2*time.Second), events.Signed{DTEKey: key, ArchiveKey: "dte/" + key + ".xml", Receiver: "77654321-7", Total: 119000, Odoo: odoo}),
		event(t, k, events.TypeSubmitted, key+".sub", start.Add(3*time.Second), events.Submitted{DTEKey: key, TrackID: "100001", EnvioKey: "envio/" + key + ".xml", Odoo: odoo}),
		event(t, k, events.TypeCheck, key+".chk2", start.Add(5*time.Second), events.Check{DTEKey: key, TrackID: "100001", Attempt: 2, Odoo: odoo}),
		event(t, k, events.TypeSettled, key+".set", start.Add(10*time.Second), events.Settled{DTEKey: key, TrackID: "100001", Result: result, SIIState: "EPR", SIIMessage: "Envío procesado", Odoo: odoo}),
	}
	var out []Fact
	for _, raw := range raws {
		f, err := ParseEvent(raw, start.Add(11*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func apply(t testing.TB, s *Store, facts ...Fact) Applied {
	t.Helper()
	res, err := s.Apply(context.Background(), Batch{Facts: facts})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

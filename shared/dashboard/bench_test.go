package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/rut"
)

// benchDocs is how many documents BenchmarkPageLoad puts in the projection
// (DTE_BENCH_DOCS overrides; the target is stated for 1,000,000).
func benchDocs(b *testing.B) int {
	if v := os.Getenv("DTE_BENCH_DOCS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("DTE_BENCH_DOCS=%q: want a positive integer", v)
		}
		return n
	}
	return 1_000_000
}

// fillSynthetic writes n documents straight into the tables, as Apply
// would leave them after 30 days of the pipeline: five history entries
// each, the counters, 2,000 dead letters (500 still parked), one issuer
// (the worst case for a search by RUT) and 1,000 receivers.
func fillSynthetic(b *testing.B, s *Store, n int, now time.Time) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	insDoc, err := tx.Prepare(`INSERT INTO documents (id, dtekey, issuer, doc_type, folio, receiver, total, status, status_at, track_id, sii_state, detail,
	  archive_key, envio_key, checks, requested_at, signed_at, submitted_at, settled_at, failed_at, updated_at)
	  VALUES (?, ?, 76086428, ?, ?, ?, ?, ?, ?, ?, 'EPR', 'EPR: Envío procesado', ?, ?, 2, ?, ?, ?, ?, NULL, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	insHist, err := tx.Prepare(`INSERT INTO history (doc, fact_id, at, kind, status, detail) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	span := 30 * 24 * time.Hour
	types := []int{33, 34, 52, 56, 61}
	counts := map[string]int64{}
	hourly := map[[2]any]int64{}
	latency := map[[3]any]int64{}
	for i := 1; i <= n; i++ {
		typ := types[i%len(types)]
		folio := int64(i)
		key := fmt.Sprintf("76086428-5-%d-%d", typ, folio)
		req := now.Add(-span + time.Duration(int64(span)*int64(i)/int64(n)))
		sig, sub, set := req.Add(800*time.Millisecond), req.Add(2*time.Second), req.Add(time.Duration(10+i%50)*time.Second)
		status := "accepted"
		switch {
		case i%97 == 0:
			status = "rejected"
		case i > n-300:
			status = "sent"
		}
		counts[status]++
		receiver := rut.New(int64(10_000_000 + i%1000)).String()
		if _, err := insDoc.Exec(i, key, typ, folio, receiver, 119000+i%1000, status, ms(set), strconv.Itoa(100000+i),
			"dte/76086428-5/"+strconv.Itoa(typ)+"/"+strconv.FormatInt(folio, 10)+".xml", "envio/76086428-5/2026/03/"+key+".xml",
			ms(req), ms(sig), ms(sub), ms(set), ms(set)); err != nil {
			b.Fatal(err)
		}
		for j, h := range []struct {
			kind, status string
			at           time.Time
		}{{"requested", "queued", req}, {"signed", "signed", sig}, {"submitted", "sent", sub}, {"check", "", sub.Add(time.Second)}, {"settled", status, set}} {
			if _, err := insHist.Exec(i, key+"."+h.kind+"."+strconv.Itoa(j), ms(h.at), h.kind, h.status, ""); err != nil {
				b.Fatal(err)
			}
		}
		for st, at := range map[string]time.Time{"queued": req, "signed": sig, "sent": sub, status: set} {
			hourly[[2]any{ms(at) / hourMS, st}]++
		}
		for stage, d := range map[string]time.Duration{"sign": sig.Sub(req), "submit": sub.Sub(sig), "sii": set.Sub(sub), "total": set.Sub(req)} {
			latency[[3]any{ms(set) / slotMS, stage, bucketOf(d)}]++
		}
	}
	for st, c := range counts {
		if _, err := tx.Exec(`INSERT INTO status_counts (status, n) VALUES (?, ?)`, st, c); err != nil {
			b.Fatal(err)
		}
	}
	for k, c := range hourly {
		if _, err := tx.Exec(`INSERT INTO hourly (hour, status, n) VALUES (?, ?, ?)`, k[0], k[1], c); err != nil {
			b.Fatal(err)
		}
	}
	for k, c := range latency {
		if _, err := tx.Exec(`INSERT INTO latency (slot, stage, bucket, n) VALUES (?, ?, ?, ?)`, k[0], k[1], k[2], c); err != nil {
			b.Fatal(err)
		}
	}
	for m := ms(now.Add(-span)) / 60000; m <= ms(now)/60000; m++ {
		if _, err := tx.Exec(`INSERT INTO sii_minute (minute, ok, err) VALUES (?, ?, ?)`, m, 100, m%7); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 2000; i++ {
		state := "replayed"
		if i%4 == 0 {
			state = "parked"
		}
		if _, err := tx.Exec(`INSERT INTO dead_letters (fact_id, message_id, dtekey, queue, reason, at, state) VALUES (?, ?, ?, 'dte.submit', 'HTTP 503: SII', ?, ?)`,
			"dead:"+strconv.Itoa(i), "m"+strconv.Itoa(i), fmt.Sprintf("76086428-5-33-%d", i*5+3), ms(now.Add(-time.Duration(i)*time.Minute)), state); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(s.path)
	b.Logf("filled %d documents (%d history entries) in %s; database %d MB", n, 5*n, time.Since(start).Round(time.Second), fi.Size()>>20)
}

// BenchmarkPageLoad times what a page load costs the server with
// 1,000,000 documents in the projection (target: under 200 ms): the page
// itself (every query of the snapshot, its JSON and the template, with
// the cache invalidated each time, as after a change), the JSON snapshot,
// a search by folio, by RUT (one issuer holds every document) and a
// document's history.
func BenchmarkPageLoad(b *testing.B) {
	n := benchDocs(b)
	now := time.Now().UTC()
	store, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	fillSynthetic(b, store, n, now)
	mem := archivetest.NewMem()
	cafs := NewCAFWatch(mem, time.Hour, nil)
	var list CAFList
	for _, typ := range []int{33, 34, 52, 56, 61} {
		list.CAFs = append(list.CAFs, CAFInfo{Issuer: "76086428-5", Type: typ, From: 1, To: int64(n) + 5000, issuer: rut.New(76086428)})
	}
	cafs.last.Store(&list)
	srv, err := New(context.Background(), Config{Store: store, Archive: mem, Broker: NewBrokerWatch("", nil, time.Hour, nil, nil), CAFs: cafs, OperatorToken: "op"})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	get := func(b *testing.B, path string) {
		req := httptest.NewRequest("GET", path, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
	}
	key := fmt.Sprintf("76086428-5-33-%d", n/5*5)
	for _, bc := range []struct {
		name, path string
		change     bool
	}{
		{"page", "/", true},
		{"snapshot", "/api/snapshot", true},
		{"search-folio", "/api/search?q=" + strconv.Itoa(n/2), false},
		{"search-rut", "/api/search?q=76086428-5", false},
		{"document", "/api/documents/" + key, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if bc.change {
					srv.Changed() // as after every committed batch
				}
				get(b, bc.path)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
		})
	}
}

// BenchmarkApplyEvent is the projection's cost per event of the pipeline
// (parse and store, in batches of 60 as the feed makes them at 600
// events/s): the dashboard's CPU per event without the broker.
func BenchmarkApplyEvent(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var raws [][]byte
	for doc := range 2000 {
		for _, f := range lifecycleRaw(b, fmt.Sprintf("76086428-5-33-%d", doc+1), time.Now()) {
			raws = append(raws, f)
		}
	}
	i := 0
	for b.Loop() {
		var batch Batch
		for range 60 {
			raw := raws[i%len(raws)]
			f, err := ParseEvent(raw, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if i >= len(raws) {
				f.ID = fmt.Sprintf("%s-%d", f.ID, i/len(raws)) // new facts, not duplicates
			}
			batch.Facts = append(batch.Facts, f)
			i++
		}
		if _, err := s.Apply(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i), "µs/event")
}

// lifecycleRaw is lifecycle's events as they come off the queue.
func lifecycleRaw(b *testing.B, key string, start time.Time) [][]byte {
	k := mustKey(b, key)
	odoo := map[string]any{"database": "odoo", "move_id": 1}
	return [][]byte{
		event(b, k, "cl.dte.requested", key+".req", start, map[string]any{"receiver": map[string]any{"rut": "77654321-7", "name": "Importadora Peñalolén SpA"}, "totals": map[string]any{"total": 119000}, "odoo": odoo,
			"lines": []map[string]any{{"name": "Servicio de diseño", "quantity": "1", "price": "100000", "amount": 100000}}}),
		event(b, k, "cl.dte.signed", key+".sig", start.Add(time.Second), map[string]any{"dtekey": key, "archive_key": "dte/" + key + ".xml", "receiver": "77654321-7", "total": 119000, "odoo": odoo}),
		event(b, k, "cl.dte.submitted", key+".sub", start.Add(2*time.Second), map[string]any{"dtekey": key, "track_id": "1", "envio_key": "envio/x.xml", "odoo": odoo}),
		event(b, k, "cl.dte.check", key+".c1", start.Add(2*time.Second), map[string]any{"dtekey": key, "track_id": "1", "attempt": 1, "odoo": odoo}),
		event(b, k, "cl.dte.check", key+".c2", start.Add(3*time.Second), map[string]any{"dtekey": key, "track_id": "1", "attempt": 2, "odoo": odoo}),
		event(b, k, "cl.dte.settled", key+".set", start.Add(4*time.Second), map[string]any{"dtekey": key, "track_id": "1", "result": "accepted", "sii_state": "EPR", "odoo": odoo}),
	}
}

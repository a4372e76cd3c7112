//go:build unix

package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/handover"
	"github.com/dtecl/pipeline/shared/stage/notify"
)

// BenchmarkNotifyAccepted is notify's work for one accepted factura, from
// the settled event to Odoo's 200: the callback alone (before issue 16),
// with the printed DTE, and with the printed DTE and the receiver's
// EnvioDTE (read the signed DTE, print it, sign the envelope, archive both
// in an in-memory store, base64 them into the callback, POST it over
// loopback HTTP). It reports cpu-ns/op, the process's CPU per document
// (Odoo's side of the loopback included), which a busy machine inflates
// far less than wall time: the rendering's cost to the pipeline's
// throughput. make bench-notify.
func BenchmarkNotifyAccepted(b *testing.B) {
	odoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(odoo.Close)
	s, err := signingOnce()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		handover bool
		edit     func(string) string
	}{
		{"callback-only", false, same},
		{"pdf", true, same},
		{"pdf+envio-receptor", true, withExchange},
	} {
		b.Run(tc.name, func(b *testing.B) {
			doc := acceptedDocument(b, archive.New(archivetest.NewMem()), "factura-33", events.ResultAccepted, tc.edit)
			dteKey, _ := archive.DTEObjectKey(doc.req.Key())
			sender := &callback.Client{URL: odoo.URL, Secret: []byte("bench")}
			b.ReportAllocs()
			var bytes int
			cpu0 := cpuTime()
			for b.Loop() {
				mem := archivetest.NewMem()
				if _, err := mem.Put(context.Background(), dteKey, doc.signed, archive.PutOptions{}); err != nil {
					b.Fatal(err)
				}
				var h notify.Handover
				if tc.handover {
					h = handover.New(archive.New(mem), s.signer, s.pki.Keys())
				}
				if _, err := notify.New(sender, h, nil).Handle(context.Background(), doc.event); err != nil {
					b.Fatal(err)
				}
				bytes = 0
				for _, k := range mem.Keys() {
					raw, _ := mem.Raw(k)
					bytes += len(raw)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(bytes), "archived-bytes")
		})
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

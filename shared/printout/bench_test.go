//go:build unix

package printout_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/printout"
)

// BenchmarkRender is the time to print one signed DTE (factura 33 with
// three lines), from the XML to the PDF bytes: parse, check the timbre,
// encode the PDF417, lay out, compress. Run with -cpu 1 (make
// bench-printout) for the per-core figure. Besides wall time it reports
// cpu-ns/op, the process's CPU time (user + system, garbage collection
// included) per document, which a busy machine inflates much less.
func BenchmarkRender(b *testing.B) {
	s := getFixture(b).samples[0]
	for _, tc := range []struct {
		name string
		o    printout.Options
	}{
		{"letter", printout.Options{Format: printout.FormatLetter}},
		{"letter-cedible", printout.Options{Format: printout.FormatLetter, Cedible: true}},
		{"ticket", printout.Options{Format: printout.FormatTicket}},
	} {
		tc.o.Resolution = &s.req.Issuer.Resolution
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			cpu0 := cpuTime()
			for b.Loop() {
				pdf, err := printout.Render(s.signed, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				n = len(pdf)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(n), "pdf-bytes")
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

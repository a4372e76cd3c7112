package printout_test

import (
	"testing"

	"github.com/dtecl/pipeline/shared/printout"
)

// BenchmarkRender is the time to print one signed DTE (factura 33 with
// three lines), from the XML to the PDF bytes: parse, check the timbre,
// encode the PDF417, lay out, compress. Run with -cpu 1 (make
// bench-printout) for the per-core figure.
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
			for b.Loop() {
				pdf, err := printout.Render(s.signed, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				n = len(pdf)
			}
			b.ReportMetric(float64(n), "pdf-bytes")
		})
	}
}

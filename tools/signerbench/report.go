package signerbench

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

func cores() int { return runtime.NumCPU() }

// WriteTable prints the report: per signer the median DTEs per CPU second
// (what one core signs) with the range over the rounds, the ratio to the
// first signer, the bare RSA-2048 rate of its crypto, the size of its DTE
// and what it runs on.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Signing one DTE (build, TED with the CAF, XMLDSig RSA-SHA1 with RSA-2048) of %s,\n", r.Request)
	fmt.Fprintf(w, "one core per signer, %d rounds of %gs each, interleaved.\n", r.Rounds, r.Seconds)
	fmt.Fprintf(w, "Load average before: %s; after: %s (%d cores).\n\n", r.LoadBefore, r.LoadAfter, r.Cores)
	rows := [][]string{{"signer", "DTE/s per core", "range", "× " + r.first(), "RSA-2048/s per core", "DTE bytes", "stack"}}
	base := 0.0
	if len(r.Rows) > 0 {
		base = r.Rows[0].Median()
	}
	for _, row := range r.Rows {
		rates := row.rates(Result.PerCPUSecond)
		if len(rates) == 0 {
			continue
		}
		ratio := "-"
		if base > 0 {
			ratio = strconv.FormatFloat(row.Median()/base, 'f', 2, 64)
		}
		last := row.Runs[len(row.Runs)-1]
		rows = append(rows, []string{row.Name, thousands(row.Median()),
			thousands(slices.Min(rates)) + "–" + thousands(slices.Max(rates)), ratio,
			thousands(median(row.rates(func(x Result) float64 { return x.RSAPerCPUSecond }))),
			thousands(float64(last.Bytes)), last.Stack})
	}
	// Names and stacks to the left, figures to the right.
	width := make([]int, len(rows[0]))
	for _, cells := range rows {
		for i, c := range cells {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, cells := range rows {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch i {
			case 0:
				b.WriteString(c + pad)
			case len(cells) - 1:
				b.WriteString("  " + c)
			default:
				b.WriteString("  " + pad + c)
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) first() string {
	if len(r.Rows) == 0 {
		return ""
	}
	return r.Rows[0].Name
}

// thousands formats a rate rounded to a whole number with comma grouping.
func thousands(x float64) string {
	s := strconv.FormatFloat(x, 'f', 0, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

package dtetest

import (
	"fmt"
	"regexp"
	"time"

	"github.com/dtecl/pipeline/shared/dte"
)

var (
	issueDateRE = regexp.MustCompile(`"issue_date"\s*:\s*"(\d{4}-\d{2}-\d{2})"`)
	anyDateRE   = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}"`)
)

// DatedToday moves every date (YYYY-MM-DD) in a DTE request's JSON by the
// same number of days, so that its issue_date becomes today in Chile: the
// sample requests keep fixed dates, while a document that is verified
// must not be dated before its CAF (authorised recently by these
// fixtures) nor after today.
func DatedToday(b []byte) ([]byte, error) {
	m := issueDateRE.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("dtetest: no issue_date in the request")
	}
	issued, err := time.Parse(time.DateOnly, string(m[1]))
	if err != nil {
		return nil, err
	}
	y, mo, d := time.Now().In(dte.Chile).Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	days := int(today.Sub(issued).Hours() / 24)
	return anyDateRE.ReplaceAllFunc(b, func(q []byte) []byte {
		t, err := time.Parse(time.DateOnly, string(q[1:len(q)-1]))
		if err != nil {
			return q
		}
		return []byte(`"` + t.AddDate(0, 0, days).Format(time.DateOnly) + `"`)
	}), nil
}

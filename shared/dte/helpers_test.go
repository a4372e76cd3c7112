package dte_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/request"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const (
	samplesDir = "../../testdata/sii"
	requests   = "../../samples/requests"
)

// fixture is what most tests need: the PKI, a CAF per type for the sample
// issuer (folios 1-100000, authorised a month ago) and a Signer.
type fixture struct {
	pki    *dtetest.PKI
	cafs   []*caf.CAF
	signer *dte.Signer
	v      *request.Validator
}

var fixtureOnce = sync.OnceValues(func() (*fixture, error) {
	pki, err := dtetest.Shared()
	if err != nil {
		return nil, err
	}
	f := &fixture{pki: pki}
	for _, typ := range dte.Types() {
		c, _, err := pki.CAF(dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada",
			Type: typ, From: 1, To: 100000, Authorized: time.Now().AddDate(0, -1, 0)})
		if err != nil {
			return nil, err
		}
		f.cafs = append(f.cafs, c)
	}
	if f.signer, err = dte.NewSigner(pki.Signer, dte.WithSIIKeys(pki.Keys())); err != nil {
		return nil, err
	}
	if f.v, err = request.NewValidator(); err != nil {
		return nil, err
	}
	return f, nil
})

func getFixture(t testing.TB) *fixture {
	t.Helper()
	f, err := fixtureOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sample reads one of samples/requests/*.json, dated today
// (dtetest.DatedToday): what it becomes must verify.
func sample(t testing.TB, name string) *request.Request {
	t.Helper()
	return readSample(t, name, true)
}

// sampleAsIs reads a sample request with the dates it has.
func sampleAsIs(t testing.TB, name string) *request.Request {
	t.Helper()
	return readSample(t, name, false)
}

func readSample(t testing.TB, name string, today bool) *request.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(requests, name))
	if err != nil {
		t.Fatal(err)
	}
	if today {
		if b, err = dtetest.DatedToday(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := getFixture(t).v.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// sampleNames lists the sample requests, one per type.
func sampleNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(requests, "*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("sample requests: %v (%d files)", err, len(files))
	}
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(f))
	}
	sort.Strings(out)
	return out
}

// variant copies req, applies change, recomputes line amounts and totals
// by the SII's rules, and checks that the result is a valid request.
func variant(t testing.TB, req *request.Request, change func(r *request.Request)) *request.Request {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var r request.Request
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	change(&r)
	for i, l := range r.Lines {
		if gross, ok := l.LineGross(); ok {
			if pd, has := l.PercentDiscount(); has {
				r.Lines[i].DiscountAmount = pd
			}
			r.Lines[i].Amount = gross - r.Lines[i].Discount()
		}
	}
	a := r.Compute()
	r.Totals.Net, r.Totals.Exempt, r.Totals.VAT, r.Totals.Total = a.Net, a.Exempt, a.VAT, a.Total
	if r.Document.Type == request.TypeFacturaExenta {
		r.Totals.VATRate = nil
	} else {
		rate := request.MustDecimal("19")
		r.Totals.VATRate = &rate
	}
	b, err = json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	out, err := getFixture(t).v.Parse(b)
	if err != nil {
		t.Fatalf("variant is not a valid request: %v", err)
	}
	return out
}

func sign(t testing.TB, req *request.Request) *dte.Signed {
	t.Helper()
	f := getFixture(t)
	s, err := f.signer.Sign(context.Background(), req, f.cafs)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// between returns the text of s between from and to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

package telemetry

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/localpki"
	"github.com/dtecl/pipeline/shared/rut"
)

// TestCAFMetrics: the folios left above the highest folio signed, in the
// CAFs that have not expired, and the expiry of the first CAF that still
// has folios; nothing about folios before one was signed.
func TestCAFMetrics(t *testing.T) {
	ctx := context.Background()
	issuer, _ := rut.Parse("76086428-5")
	pki, err := localpki.New()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	arch := archive.New(archivetest.NewMem())
	specs := []localpki.CAFSpec{
		{From: 1, To: 100, Authorized: now.AddDate(0, -7, 0)},   // expired
		{From: 101, To: 300, Authorized: now.AddDate(0, -1, 0)}, // expires in about 5 months
		{From: 301, To: 500, Authorized: now},                   // in 6 months
	}
	var expiries []time.Time
	for _, s := range specs {
		s.Issuer, s.Type, s.Name = issuer, 33, "EMPRESA"
		c, raw, err := pki.CAF(s)
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := c.ExpiresAt()
		expiries = append(expiries, exp)
		if _, _, err := arch.PutCAF(ctx, issuer, 33, s.From, s.To, raw); err != nil {
			t.Fatal(err)
		}
	}
	tel, err := New(ctx, "sign", config.Telemetry{})
	if err != nil {
		t.Fatal(err)
	}
	watched := tel.CAFs(arch, time.Now)
	left := func() float64 {
		return testutil.ToFloat64(tel.M.CAFFoliosRemaining.WithLabelValues("76086428-5", "33"))
	}
	expiry := func() float64 { return testutil.ToFloat64(tel.M.CAFExpiry.WithLabelValues("76086428-5", "33")) }

	if _, err := watched.CAFs(ctx, issuer, 33); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(tel.M.CAFFoliosRemaining); n != 0 {
		t.Errorf("folios left shown before any folio was signed (%d series)", n)
	}
	if got := expiry(); got != float64(expiries[1].Unix()) {
		t.Errorf("expiry %v, want the first unexpired CAF's, %v", time.Unix(int64(got), 0), expiries[1])
	}
	k := func(folio int64) dtekey.Key { return dtekey.Key{Issuer: issuer, Type: 33, Folio: folio} }
	if _, err := watched.PutDTE(ctx, k(120), []byte("<DTE/>"), "r"); err != nil {
		t.Fatal(err)
	}
	if got := left(); got != 180+200 {
		t.Errorf("after folio 120: %v folios left, want 380 (the expired CAF's do not count)", got)
	}
	if _, err := watched.PutDTE(ctx, k(300), []byte("<DTE/>"), "r"); err != nil {
		t.Fatal(err)
	}
	if got, exp := left(), expiry(); got != 200 || exp != float64(expiries[2].Unix()) {
		t.Errorf("after folio 300: %v left (want 200), expiry %v (want the last CAF's)", got, time.Unix(int64(exp), 0))
	}
	if _, err := watched.GetDTE(ctx, k(120)); err != nil { // an older folio, signed already
		t.Fatal(err)
	}
	if got := left(); got != 200 {
		t.Errorf("an older folio moved the count: %v", got)
	}
	// Another type of the same issuer is its own series.
	if _, err := watched.GetDTE(ctx, dtekey.Key{Issuer: issuer, Type: 61, Folio: 5}); err == nil {
		t.Fatal("a DTE that was never archived was found")
	}
	if n := testutil.CollectAndCount(tel.M.CAFFoliosRemaining); n != 1 {
		t.Errorf("%d series of folios left, want 1", n)
	}
}

package handover

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/request"
)

// TestOverTheBound: files over the callback's bound are archived and
// listed, without their data, and the error says where they are.
func TestOverTheBound(t *testing.T) {
	pki := dtetest.MustShared(t)
	signer, err := dte.NewSigner(pki.Signer, dte.WithSIIKeys(pki.Keys()))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := pki.CAF(dtetest.CAFSpec{Issuer: dtetest.IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada",
		Type: 33, From: 1, To: 100000, Authorized: time.Now().AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	req, err := v.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signer.Sign(context.Background(), req, []*caf.CAF{c})
	if err != nil {
		t.Fatal(err)
	}
	mem := archivetest.NewMem()
	a := archive.New(mem)
	if _, err := a.PutDTE(context.Background(), req.Key(), signed.XML, "d"); err != nil {
		t.Fatal(err)
	}
	m := New(a, signer, pki.Keys())
	m.max = 1000
	files, err := m.Attachments(context.Background(), req.Key(), req.OdooForEvents().Handover)
	if !errors.Is(err, ErrTooLarge) || !errs.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent ErrTooLarge", err)
	}
	if len(files) != 1 || files[0].Data != "" || files[0].Size < 1000 || files[0].ArchiveKey != "pdf/76086428-5/33/1042.pdf" {
		t.Fatalf("files %+v", files)
	}
	if _, ok := mem.Raw(files[0].ArchiveKey); !ok {
		t.Error("the PDF over the bound was not archived")
	}
	if _, err := m.Attachments(context.Background(), req.Key(), nil); !errs.IsPermanent(err) {
		t.Errorf("no handover data: err = %v, want permanent", err)
	}
}

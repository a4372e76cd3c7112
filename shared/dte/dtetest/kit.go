package dtetest

import (
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
)

// SigningKit is what signs the sample requests: a signer that knows the
// test "SII" keys, and one CAF per document type for the sample issuer
// (folios 1–100000, authorised a month ago).
func (p *PKI) SigningKit() (*dte.Signer, []*caf.CAF, error) {
	signer, err := dte.NewSigner(p.Signer, dte.WithSIIKeys(p.Keys()))
	if err != nil {
		return nil, nil, err
	}
	var cafs []*caf.CAF
	for _, typ := range dte.Types() {
		c, _, err := p.CAF(CAFSpec{Issuer: IssuerRUT, Name: "Comercial Ñandú y Compañía Limitada",
			Type: typ, From: 1, To: 100000, Authorized: time.Now().AddDate(0, -1, 0)})
		if err != nil {
			return nil, nil, err
		}
		cafs = append(cafs, c)
	}
	return signer, cafs, nil
}

package timbre

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Stamp is what a verified timbre says: the DD's fields as written.
type Stamp struct {
	Issuer       string `json:"re"`  // RE: the issuer's RUT
	Type         int    `json:"td"`  // TD
	Folio        int64  `json:"f"`   // F
	IssueDate    string `json:"fe"`  // FE
	Receiver     string `json:"rr"`  // RR
	ReceiverName string `json:"rsr"` // RSR: first 40 characters of the receiver's name
	Total        int64  `json:"mnt"` // MNT
	FirstItem    string `json:"it1"` // IT1: first 40 characters of the first line's name
	StampedAt    string `json:"tsted"`
	// CAF is the folio authorisation inside the DD (public key only).
	CAF *caf.CAF `json:"-"`
	// CAFVerified reports whether the CAF's FRMA was checked with the
	// SII's keys (Verify with keys).
	CAFVerified bool `json:"caf_verified"`
}

// latin1Decl makes the parser read the timbre's bytes as ISO-8859-1,
// which they are by definition, even where they would also be valid UTF-8.
const latin1Decl = `<?xml version="1.0" encoding="ISO-8859-1"?>`

// Verify checks a timbre from its bytes alone, what an inspector's
// scanner does with the PDF417: the bytes are a TED; FRMT verifies over
// the flattened DD with the CAF key the DD carries; the CAF is for the
// DD's issuer and type and its range holds the folio; and, with keys, the
// CAF's FRMA verifies with the SII's key for its IDK (without keys that
// check is not made and Stamp.CAFVerified is false). Bytes with an XML
// declaration are read as it says; without one, as ISO-8859-1.
func Verify(b []byte, keys *caf.Keys) (*Stamp, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("<?xml")) {
		b = append([]byte(latin1Decl), b...)
	}
	doc, err := xmlsig.ParseDocument(b)
	if err != nil {
		return nil, fmt.Errorf("timbre: %w: %w", ErrMalformed, err)
	}
	ted := doc.Root()
	if ted.Tag != "TED" {
		return nil, fmt.Errorf("timbre: %w: the root element is <%s>, not TED", ErrMalformed, ted.Tag)
	}
	dd, frmtEl := ted.SelectElement("DD"), ted.SelectElement("FRMT")
	if dd == nil || frmtEl == nil {
		return nil, fmt.Errorf("timbre: %w: TED without DD or FRMT", ErrMalformed)
	}
	cafEl := dd.SelectElement("CAF")
	if cafEl == nil {
		return nil, fmt.Errorf("timbre: %w: DD has no CAF", ErrMalformed)
	}
	c, err := caf.FromElement(cafEl)
	if err != nil {
		return nil, fmt.Errorf("timbre: %w: DD/CAF: %w", ErrMalformed, err)
	}
	text := func(name string) string {
		if e := dd.SelectElement(name); e != nil {
			return e.Text()
		}
		return ""
	}
	s := &Stamp{Issuer: strings.TrimSpace(text("RE")), IssueDate: text("FE"), Receiver: text("RR"),
		ReceiverName: text("RSR"), FirstItem: text("IT1"), StampedAt: text("TSTED"), CAF: c}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"TD", nil}, {"F", &s.Folio}, {"MNT", &s.Total}} {
		v, err := strconv.ParseInt(strings.TrimSpace(text(f.name)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("timbre: %w: DD/%s %q is not a number", ErrMalformed, f.name, text(f.name))
		}
		if f.dst == nil {
			s.Type = int(v)
		} else {
			*f.dst = v
		}
	}
	frmt, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(frmtEl.Text()), ""))
	if err != nil || len(frmt) == 0 {
		return nil, fmt.Errorf("timbre: %w: FRMT is not base64", ErrMalformed)
	}
	if alg := frmtEl.SelectAttrValue("algoritmo", "SHA1withRSA"); alg != "SHA1withRSA" {
		return nil, fmt.Errorf("timbre: %w: FRMT algoritmo %q; the SII signs with SHA1withRSA", ErrMalformed, alg)
	}
	flat, err := caf.Flatten(dd)
	if err != nil {
		return nil, fmt.Errorf("timbre: %w: DD: %w", ErrMalformed, err)
	}
	if err := c.VerifyTED(flat, frmt); err != nil {
		return nil, fmt.Errorf("timbre: %w with the CAF key over the flattened DD (ISO-8859-1): %w", ErrSignature, err)
	}
	if c.Issuer.String() != s.Issuer || c.Type != s.Type {
		return nil, fmt.Errorf("timbre: %w: %s, but the DD is issuer %s type %d", ErrCAF, c, s.Issuer, s.Type)
	}
	if !c.Contains(s.Folio) {
		return nil, fmt.Errorf("timbre: %w: folio %d is outside %s", ErrCAF, s.Folio, c)
	}
	if keys != nil {
		if err := c.VerifySII(keys); err != nil {
			return nil, fmt.Errorf("timbre: %w: %w", ErrCAF, err)
		}
		s.CAFVerified = true
	}
	return s, nil
}

package timbre

import (
	"errors"
	"fmt"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Errors of Bytes, Find and Verify; the messages say which element and
// which rule.
var (
	// ErrNoTED: the document is not a DTE with a TED.
	ErrNoTED = errors.New("no TED")
	// ErrMalformed: the TED or the scanned bytes are not a readable TED.
	ErrMalformed = errors.New("malformed TED")
	// ErrSignature: FRMT does not verify over the DD with the CAF's key.
	ErrSignature = errors.New("the TED's signature (FRMT) does not verify")
	// ErrCAF: the CAF inside the TED is not the SII's, or not for this
	// issuer, type or folio.
	ErrCAF = errors.New("the CAF inside the TED does not vouch for it")
)

// Bytes returns the timbre of a signed DTE: its TED flattened in
// ISO-8859-1, what the PDF417 on the printed document carries. doc is a
// standalone DTE or an EnvioDTE holding exactly one DTE, in ISO-8859-1 or
// UTF-8.
func Bytes(doc []byte) ([]byte, error) {
	d, err := xmlsig.ParseDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("timbre: %w: %w", ErrNoTED, err)
	}
	ted, err := Find(d.Root())
	if err != nil {
		return nil, err
	}
	return FromTED(ted)
}

// Find returns the TED of the DTE root is, or of the only DTE of the
// EnvioDTE root is.
func Find(root *etree.Element) (*etree.Element, error) {
	dte := root
	switch root.Tag {
	case "DTE":
	case "EnvioDTE":
		set := root.SelectElement("SetDTE")
		if set == nil {
			return nil, fmt.Errorf("timbre: %w: EnvioDTE without SetDTE", ErrNoTED)
		}
		var dtes []*etree.Element
		for _, c := range set.ChildElements() {
			if c.Tag == "DTE" {
				dtes = append(dtes, c)
			}
		}
		if len(dtes) != 1 {
			return nil, fmt.Errorf("timbre: %w: the EnvioDTE holds %d DTEs; give one DTE", ErrNoTED, len(dtes))
		}
		dte = dtes[0]
	default:
		return nil, fmt.Errorf("timbre: %w: the root element is <%s>, not DTE or EnvioDTE", ErrNoTED, root.Tag)
	}
	for _, name := range []string{"Documento", "Exportaciones", "Liquidacion"} {
		if doc := dte.SelectElement(name); doc != nil {
			if ted := doc.SelectElement("TED"); ted != nil {
				return ted, nil
			}
			return nil, fmt.Errorf("timbre: %w: DTE/%s has no TED element", ErrNoTED, name)
		}
	}
	return nil, fmt.Errorf("timbre: %w: the DTE has no Documento, Exportaciones or Liquidacion", ErrNoTED)
}

// FromTED flattens a TED element into the timbre's bytes. It fails when
// the element is not a TED with DD and FRMT, or holds a character
// ISO-8859-1 cannot carry.
func FromTED(ted *etree.Element) ([]byte, error) {
	if ted == nil || ted.Tag != "TED" {
		return nil, fmt.Errorf("timbre: %w: not a TED element", ErrNoTED)
	}
	if ted.SelectElement("DD") == nil || ted.SelectElement("FRMT") == nil {
		return nil, fmt.Errorf("timbre: %w: TED without DD or FRMT", ErrMalformed)
	}
	b, err := caf.Flatten(ted)
	if err != nil {
		return nil, fmt.Errorf("timbre: %w: %w", ErrMalformed, err)
	}
	return b, nil
}

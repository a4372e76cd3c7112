package siisim

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// siiDteNS is the namespace of DTEs and envelopes.
const siiDteNS = "http://www.sii.cl/SiiDte"

// projectInspector is the Inspector built on the project's own document
// code: xmlsig for the signatures, caf for the CAFs and TEDs. Only the
// reading of the envelope's fields is done here.
type projectInspector struct {
	keys *caf.Keys
}

// NewProjectInspector returns the Inspector the simulator uses by default:
// signatures checked with shared/xmlsig (the SetDTE in place, each DTE the
// SII's way, taken out with only the SiiDte namespace — docs/sii-protocol.md §6.3),
// CAFs with shared/caf against keys (the SII's keys that sign CAFs, by
// IDK), TEDs with the CAF key over the flattened DD.
func NewProjectInspector(keys *caf.Keys) Inspector {
	return &projectInspector{keys: keys}
}

// VerifySeed implements Inspector.
func (p *projectInspector) VerifySeed(doc []byte) (*x509.Certificate, error) {
	return VerifySeedSignature(doc)
}

// InspectEnvio implements Inspector.
func (p *projectInspector) InspectEnvio(b []byte) (*Envio, error) {
	d, err := xmlsig.ParseDocument(b)
	if err != nil {
		return nil, err
	}
	root := d.Root()
	if root == nil || root.Tag != "EnvioDTE" || root.NamespaceURI() != siiDteNS {
		return nil, errors.New("the root element is not EnvioDTE in " + siiDteNS)
	}
	set := root.SelectElement("SetDTE")
	if set == nil {
		return nil, errors.New("EnvioDTE has no SetDTE")
	}
	car := set.SelectElement("Caratula")
	if car == nil {
		return nil, errors.New("SetDTE has no Caratula")
	}
	env := &Envio{
		RutEmisor:   text(car, "RutEmisor"),
		RutEnvia:    text(car, "RutEnvia"),
		RutReceptor: text(car, "RutReceptor"),
		SubTotals:   map[int]int{},
	}
	for _, st := range car.SelectElements("SubTotDTE") {
		t, err1 := strconv.Atoi(text(st, "TpoDTE"))
		n, err2 := strconv.Atoi(text(st, "NroDTE"))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("Caratula SubTotDTE: TpoDTE %q NroDTE %q are not numbers", text(st, "TpoDTE"), text(st, "NroDTE"))
		}
		env.SubTotals[t] += n
	}
	env.SetSignature, env.SetSigner = p.verifySet(root, set)
	for i, dteEl := range set.SelectElements("DTE") {
		doc, err := p.inspectDTE(dteEl)
		if err != nil {
			return nil, fmt.Errorf("DTE %d: %w", i+1, err)
		}
		env.Documents = append(env.Documents, *doc)
	}
	return env, nil
}

// verifySet checks the EnvioDTE's signature over SetDTE, in place.
func (p *projectInspector) verifySet(root, set *etree.Element) (Check, *x509.Certificate) {
	sig := signatureChild(root)
	if sig == nil {
		return Check{Detail: "no Signature after SetDTE"}, nil
	}
	res, err := xmlsig.Verify(sig, xmlsig.VerifyOptions{})
	if err != nil {
		return Fail(err), nil
	}
	if res.Referenced != set {
		return Check{Detail: fmt.Sprintf("the signature references %q, not the SetDTE", res.URI)}, res.Certificate
	}
	return Pass(), res.Certificate
}

// inspectDTE reads one DTE's fields and checks its signature, CAF and TED.
func (p *projectInspector) inspectDTE(dteEl *etree.Element) (*Document, error) {
	docEl := dteEl.SelectElement("Documento")
	for _, alt := range []string{"Exportaciones", "Liquidacion"} {
		if docEl == nil {
			docEl = dteEl.SelectElement(alt)
		}
	}
	if docEl == nil {
		return nil, errors.New("no Documento, Exportaciones or Liquidacion element")
	}
	enc := docEl.SelectElement("Encabezado")
	if enc == nil {
		return nil, errors.New("no Encabezado")
	}
	typ, err := strconv.Atoi(text(enc, "IdDoc/TipoDTE"))
	if err != nil {
		return nil, fmt.Errorf("TipoDTE %q is not a number", text(enc, "IdDoc/TipoDTE"))
	}
	folio, err := strconv.ParseInt(text(enc, "IdDoc/Folio"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("Folio %q is not a number", text(enc, "IdDoc/Folio"))
	}
	total, err := strconv.ParseInt(text(enc, "Totales/MntTotal"), 10, 64)
	if err != nil {
		// export documents may state MntTotal with decimals
		f, ferr := strconv.ParseFloat(text(enc, "Totales/MntTotal"), 64)
		if ferr != nil {
			return nil, fmt.Errorf("MntTotal %q is not a number", text(enc, "Totales/MntTotal"))
		}
		total = int64(f)
	}
	d := &Document{
		Type:      typ,
		Folio:     folio,
		Issuer:    text(enc, "Emisor/RUTEmisor"),
		Receiver:  text(enc, "Receptor/RUTRecep"),
		IssueDate: text(enc, "IdDoc/FchEmis"),
		Total:     total,
	}
	for _, ref := range docEl.SelectElements("Referencia") {
		code, _ := strconv.Atoi(text(ref, "CodRef"))
		d.References = append(d.References, Reference{Type: text(ref, "TpoDocRef"), Folio: text(ref, "FolioRef"), Code: code})
	}
	d.Signature = verifyDTESignature(dteEl, docEl)
	d.CAF, d.TED = p.verifyStamp(docEl, d)
	return d, nil
}

// verifyDTESignature checks a DTE's signature as the SII does: on the DTE
// taken out of the envelope with only the SiiDte default namespace in
// scope (the convention of Odoo, LibreDTE and the SII's own portal); the
// SII's old example, signed with no namespace at all, is accepted too.
func verifyDTESignature(dteEl, docEl *etree.Element) Check {
	sig := signatureChild(dteEl)
	if sig == nil {
		return Check{Detail: "no Signature after Documento"}
	}
	var best error
	for _, base := range [][]xmlsig.NS{{{Prefix: "", URI: siiDteNS}}, nil} {
		res, err := xmlsig.Verify(sig, xmlsig.VerifyOptions{Boundary: dteEl, Base: base})
		if err == nil {
			if res.Referenced != docEl {
				return Check{Detail: fmt.Sprintf("the signature references %q, not the Documento", res.URI)}
			}
			return Pass()
		}
		if best == nil || errors.Is(best, xmlsig.ErrDigest) {
			best = err // a failure past the digest says more
		}
	}
	return Fail(best)
}

// verifyStamp checks the CAF inside the TED against the SII's keys and the
// document, and the TED's FRMT over the flattened DD with the CAF key, and
// that the DD says what the document says.
func (p *projectInspector) verifyStamp(docEl *etree.Element, d *Document) (cafCheck, tedCheck Check) {
	ted := docEl.SelectElement("TED")
	if ted == nil {
		return Check{Detail: "no TED"}, Check{Detail: "no TED"}
	}
	dd := ted.SelectElement("DD")
	if dd == nil {
		return Check{Detail: "TED has no DD"}, Check{Detail: "TED has no DD"}
	}
	cafEl := dd.SelectElement("CAF")
	if cafEl == nil {
		return Check{Detail: "DD has no CAF"}, Check{Detail: "DD has no CAF"}
	}
	c, err := caf.FromElement(cafEl)
	if err != nil {
		return Fail(err), Check{Detail: "unreadable CAF"}
	}
	cafCheck = Pass()
	if p.keys == nil {
		cafCheck = Check{Detail: "no SII keys configured"}
	} else if err := c.VerifySII(p.keys); err != nil {
		cafCheck = Fail(err)
	} else if issuer, err := rut.Parse(d.Issuer); err != nil {
		cafCheck = Fail(fmt.Errorf("RUTEmisor: %w", err))
	} else if err := c.Check(issuer, d.Type, d.Folio); err != nil {
		cafCheck = Fail(err)
	}
	flat, err := caf.Flatten(dd)
	if err != nil {
		return cafCheck, Fail(fmt.Errorf("flatten DD: %w", err))
	}
	frmt, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text(ted, "FRMT")), ""))
	if err != nil {
		return cafCheck, Fail(fmt.Errorf("FRMT is not base64: %w", err))
	}
	if err := c.VerifyTED(flat, frmt); err != nil {
		return cafCheck, Fail(err)
	}
	for _, f := range []struct{ name, dd, doc string }{
		{"RE", text(dd, "RE"), d.Issuer},
		{"TD", text(dd, "TD"), strconv.Itoa(d.Type)},
		{"F", text(dd, "F"), strconv.FormatInt(d.Folio, 10)},
		{"FE", text(dd, "FE"), d.IssueDate},
		{"RR", text(dd, "RR"), d.Receiver},
		{"MNT", text(dd, "MNT"), strconv.FormatInt(d.Total, 10)},
	} {
		if f.dd != f.doc {
			return cafCheck, Check{Detail: fmt.Sprintf("TED DD/%s %q does not match the document's %q", f.name, f.dd, f.doc)}
		}
	}
	return cafCheck, Pass()
}

// signatureChild is el's XMLDSig Signature child, if any.
func signatureChild(el *etree.Element) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsig.Namespace {
			return c
		}
	}
	return nil
}

func text(el *etree.Element, path string) string {
	if e := el.FindElement(path); e != nil {
		return strings.TrimSpace(e.Text())
	}
	return ""
}

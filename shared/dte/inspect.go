package dte

import (
	"fmt"
	"strconv"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Kinds of documents Inspect and Verify read.
const (
	KindDTE         = "DTE"         // a standalone DTE
	KindEnvioDTE    = "EnvioDTE"    // an envelope
	KindEnvioBOLETA = "EnvioBOLETA" // an envelope of boletas
)

// Inspection is what a DTE or EnvioDTE says about itself.
type Inspection struct {
	Kind      string     `json:"kind"`     // KindDTE, KindEnvioDTE or KindEnvioBOLETA
	Encoding  string     `json:"encoding"` // as declared (or detected)
	SetID     string     `json:"set_id,omitempty"`
	Caratula  *Caratula  `json:"caratula,omitempty"` // envelopes only
	Documents []Document `json:"documents"`
}

// Caratula is an EnvioDTE's cover, as written.
type Caratula struct {
	Issuer           string     `json:"rut_emisor"`   // RutEmisor
	Sender           string     `json:"rut_envia"`    // RutEnvia
	Receiver         string     `json:"rut_receptor"` // RutReceptor
	ResolutionDate   string     `json:"fch_resol"`    // FchResol
	ResolutionNumber string     `json:"nro_resol"`    // NroResol
	SignedAt         string     `json:"tmst_firma_env"`
	SubTotals        []SubTotal `json:"subtotals"` // SubTotDTE
}

// Document is what a DTE says about itself, as written (numbers that do
// not parse are zero).
type Document struct {
	ID           string      `json:"id"` // Documento ID
	Type         int         `json:"type"`
	Folio        int64       `json:"folio"`
	IssueDate    string      `json:"issue_date"` // FchEmis
	Issuer       string      `json:"issuer"`     // RUTEmisor
	IssuerName   string      `json:"issuer_name"`
	Receiver     string      `json:"receiver"` // RUTRecep
	ReceiverName string      `json:"receiver_name"`
	Net          int64       `json:"net,omitempty"`
	Exempt       int64       `json:"exempt,omitempty"`
	VAT          int64       `json:"vat,omitempty"`
	Total        int64       `json:"total"`     // MntTotal
	SignedAt     string      `json:"signed_at"` // TmstFirma
	Lines        int         `json:"lines"`     // Detalle count
	References   []Reference `json:"references,omitempty"`
}

// Reference is a Referencia line.
type Reference struct {
	Line   int    `json:"line"`
	Type   string `json:"type"` // TpoDocRef
	Folio  string `json:"folio"`
	Date   string `json:"date"`
	Code   int    `json:"code,omitempty"` // CodRef
	Reason string `json:"reason,omitempty"`
}

// loaded is a parsed DTE or EnvioDTE.
type loaded struct {
	doc      *etree.Document
	kind     string
	encoding string
	set      *etree.Element   // SetDTE (envelopes)
	dtes     []*etree.Element // DTE elements
}

func load(b []byte) (*loaded, error) { return loadLimits(b, xmlsig.Limits{}) }

// loadLimits parses within l (xmlsig.ParseDocumentLimits: nothing is
// parsed that is over the limits) and finds the DTEs.
func loadLimits(b []byte, l xmlsig.Limits) (*loaded, error) {
	doc, err := xmlsig.ParseDocumentLimits(b, l)
	if err != nil {
		return nil, err
	}
	_, enc, err := xmlsig.DecodeXML(b)
	if err != nil {
		return nil, err
	}
	ld := &loaded{doc: doc, encoding: enc}
	root := doc.Root()
	switch root.Tag {
	case "DTE":
		ld.kind = KindDTE
		ld.dtes = []*etree.Element{root}
	case "EnvioDTE", "EnvioBOLETA":
		ld.kind = root.Tag
		if ld.set = child(root, "SetDTE"); ld.set == nil {
			return nil, fmt.Errorf("%w: %s without SetDTE", ErrNotDTE, root.Tag)
		}
		for _, c := range ld.set.ChildElements() {
			if c.Tag == "DTE" {
				ld.dtes = append(ld.dtes, c)
			}
		}
	default:
		return nil, fmt.Errorf("%w: the root element is <%s>, not DTE, EnvioDTE or EnvioBOLETA", ErrNotDTE, root.Tag)
	}
	return ld, nil
}

// Inspect reads a DTE or an EnvioDTE and lists what it holds: the
// Carátula and, for each DTE, its type, folio, issuer, receiver, dates,
// totals and references. It checks nothing (see Verify).
func Inspect(b []byte) (*Inspection, error) {
	l, err := load(b)
	if err != nil {
		return nil, err
	}
	return l.inspect(), nil
}

func (l *loaded) inspect() *Inspection {
	in := &Inspection{Kind: l.kind, Encoding: l.encoding}
	if l.set != nil {
		in.SetID = l.set.SelectAttrValue("ID", "")
		in.Caratula = readCaratula(child(l.set, "Caratula"))
	}
	for _, d := range l.dtes {
		in.Documents = append(in.Documents, readDocument(d))
	}
	return in
}

func readCaratula(c *etree.Element) *Caratula {
	if c == nil {
		return nil
	}
	out := &Caratula{
		Issuer:           textOf(c, "RutEmisor"),
		Sender:           textOf(c, "RutEnvia"),
		Receiver:         textOf(c, "RutReceptor"),
		ResolutionDate:   textOf(c, "FchResol"),
		ResolutionNumber: textOf(c, "NroResol"),
		SignedAt:         textOf(c, "TmstFirmaEnv"),
	}
	for _, st := range c.SelectElements("SubTotDTE") {
		t, _ := strconv.Atoi(textOf(st, "TpoDTE"))
		n, _ := strconv.Atoi(textOf(st, "NroDTE"))
		out.SubTotals = append(out.SubTotals, SubTotal{Type: t, Count: n})
	}
	return out
}

func readDocument(dteEl *etree.Element) Document {
	d := documentElement(dteEl)
	if d == nil {
		return Document{}
	}
	return readDocumentEl(d)
}

// readDocumentEl reads a Documento (Exportaciones, Liquidacion) element.
func readDocumentEl(d *etree.Element) Document {
	num := func(path string) int64 {
		n, _ := strconv.ParseInt(textOf(d, path), 10, 64)
		return n
	}
	out := Document{
		ID:           d.SelectAttrValue("ID", ""),
		Type:         int(num("Encabezado/IdDoc/TipoDTE")),
		Folio:        num("Encabezado/IdDoc/Folio"),
		IssueDate:    textOf(d, "Encabezado/IdDoc/FchEmis"),
		Issuer:       textOf(d, "Encabezado/Emisor/RUTEmisor"),
		IssuerName:   textOf(d, "Encabezado/Emisor/RznSoc"),
		Receiver:     textOf(d, "Encabezado/Receptor/RUTRecep"),
		ReceiverName: textOf(d, "Encabezado/Receptor/RznSocRecep"),
		Net:          num("Encabezado/Totales/MntNeto"),
		Exempt:       num("Encabezado/Totales/MntExe"),
		VAT:          num("Encabezado/Totales/IVA"),
		Total:        num("Encabezado/Totales/MntTotal"),
		SignedAt:     textOf(d, "TmstFirma"),
		Lines:        len(d.SelectElements("Detalle")),
	}
	for _, r := range d.SelectElements("Referencia") {
		line, _ := strconv.Atoi(textOf(r, "NroLinRef"))
		code, _ := strconv.Atoi(textOf(r, "CodRef"))
		out.References = append(out.References, Reference{
			Line: line, Type: textOf(r, "TpoDocRef"), Folio: textOf(r, "FolioRef"),
			Date: textOf(r, "FchRef"), Code: code, Reason: textOf(r, "RazonRef"),
		})
	}
	return out
}

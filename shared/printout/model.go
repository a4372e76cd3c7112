package printout

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/timbre"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// document is what the printed representation shows, read from the
// signed DTE as written (texts trimmed, numbers kept as their text).
type document struct {
	ID          string
	Type        int
	Folio       string
	IssueDate   string
	DueDate     string
	PaymentForm string // FmaPago
	PrintFormat string // TpoImpresion: N normal, T ticket
	Transfer    string // IndTraslado (52)
	Dispatch    string // TipoDespacho (52)

	Issuer   party
	Receiver party
	// Transport is Transporte (52): plate, carrier and destination.
	Patent, Carrier, DestAddress, DestCommune, DestCity string

	Net, Exempt, VATRate, VAT, Total string
	OtherTaxes                       []tax
	NotBillable                      string // MontoNF

	Lines      []line
	Globals    []adjustment
	References []reference

	TED        []byte // the timbre: the TED flattened, ISO-8859-1
	Resolution *request.Resolution
}

type party struct {
	RUT      string
	Name     string
	Activity string
	Address  string
	Commune  string
	City     string
	Contact  string
	Email    string
	Phones   []string
	Branch   string // Sucursal
}

type tax struct{ Code, Rate, Amount string }

type line struct {
	Number                  string
	Codes                   []string // VlrCodigo
	Exempt                  bool     // IndExe 1
	Name, Description       string
	Quantity, Unit, Price   string
	DiscountPct, Discount   string
	SurchargePct, Surcharge string
	Amount                  string
}

type adjustment struct {
	Kind      string // D discount, R surcharge
	Text      string
	ValueType string // % or $
	Value     string
	Exempt    bool
}

type reference struct {
	Type, Folio, Date, Code, Reason string
	Global                          bool
}

// load reads the DTE to print from a standalone DTE or an EnvioDTE (the
// DTE whose Documento ID is id, or its only DTE). An EnvioDTE's Carátula
// gives the resolution.
func load(b []byte, id string) (*document, error) {
	xd, err := xmlsig.ParseDocument(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotDTE, err)
	}
	root := xd.Root()
	d := &document{}
	var dteEl *etree.Element
	switch root.Tag {
	case "DTE":
		dteEl = root
	case "EnvioDTE":
		set := child(root, "SetDTE")
		if set == nil {
			return nil, fmt.Errorf("%w: EnvioDTE without SetDTE", ErrNotDTE)
		}
		var ids []string
		for _, c := range set.ChildElements() {
			if c.Tag != "DTE" {
				continue
			}
			did := ""
			if docEl := child(c, "Documento"); docEl != nil {
				did = docEl.SelectAttrValue("ID", "")
			}
			ids = append(ids, did)
			if id == "" || did == id {
				dteEl = c
			}
		}
		switch {
		case len(ids) == 0:
			return nil, fmt.Errorf("%w: the EnvioDTE holds no DTE", ErrNotDTE)
		case id == "" && len(ids) > 1:
			return nil, fmt.Errorf("%w: the EnvioDTE holds %d DTEs (%s); say which Documento ID to print", ErrNotDTE, len(ids), strings.Join(ids, ", "))
		case dteEl == nil:
			return nil, fmt.Errorf("%w: the EnvioDTE has no DTE with Documento ID %q (it has %s)", ErrNotDTE, id, strings.Join(ids, ", "))
		}
		if car := child(set, "Caratula"); car != nil {
			if res, ok := resolutionOf(car); ok {
				d.Resolution = &res
			}
		}
	default:
		return nil, fmt.Errorf("%w: the root element is <%s>, not DTE or EnvioDTE", ErrNotDTE, root.Tag)
	}
	doc := child(dteEl, "Documento")
	if doc == nil {
		return nil, fmt.Errorf("%w: DTE without Documento (exports and liquidaciones are not printed here)", ErrNotDTE)
	}
	if id != "" && doc.SelectAttrValue("ID", "") != id {
		return nil, fmt.Errorf("%w: the DTE's Documento ID is %q, not %q", ErrNotDTE, doc.SelectAttrValue("ID", ""), id)
	}
	ted, err := timbre.Find(dteEl)
	if err != nil {
		return nil, err
	}
	if d.TED, err = timbre.FromTED(ted); err != nil {
		return nil, err
	}
	d.ID = doc.SelectAttrValue("ID", "")
	enc := child(doc, "Encabezado")
	id0 := child(enc, "IdDoc")
	typ := text(id0, "TipoDTE")
	if d.Type, err = strconv.Atoi(typ); err != nil {
		return nil, fmt.Errorf("%w: Encabezado/IdDoc/TipoDTE %q is not a number", ErrNotDTE, typ)
	}
	d.Folio, d.IssueDate, d.DueDate = text(id0, "Folio"), text(id0, "FchEmis"), text(id0, "FchVenc")
	d.PaymentForm, d.PrintFormat = text(id0, "FmaPago"), text(id0, "TpoImpresion")
	d.Transfer, d.Dispatch = text(id0, "IndTraslado"), text(id0, "TipoDespacho")
	for _, f := range []struct{ name, v string }{{"Folio", d.Folio}, {"FchEmis", d.IssueDate}} {
		if f.v == "" {
			return nil, fmt.Errorf("%w: Encabezado/IdDoc/%s is missing", ErrNotDTE, f.name)
		}
	}

	em := child(enc, "Emisor")
	d.Issuer = party{RUT: text(em, "RUTEmisor"), Name: text(em, "RznSoc"), Activity: text(em, "GiroEmis"),
		Address: text(em, "DirOrigen"), Commune: text(em, "CmnaOrigen"), City: text(em, "CiudadOrigen"),
		Email: text(em, "CorreoEmisor"), Branch: text(em, "Sucursal")}
	for _, p := range elements(em, "Telefono") {
		d.Issuer.Phones = append(d.Issuer.Phones, strings.TrimSpace(p.Text()))
	}
	re := child(enc, "Receptor")
	d.Receiver = party{RUT: text(re, "RUTRecep"), Name: text(re, "RznSocRecep"), Activity: text(re, "GiroRecep"),
		Address: text(re, "DirRecep"), Commune: text(re, "CmnaRecep"), City: text(re, "CiudadRecep"),
		Contact: text(re, "Contacto"), Email: text(re, "CorreoRecep")}
	for _, f := range []struct{ name, v string }{{"Emisor/RUTEmisor", d.Issuer.RUT}, {"Emisor/RznSoc", d.Issuer.Name}, {"Receptor/RUTRecep", d.Receiver.RUT}} {
		if f.v == "" {
			return nil, fmt.Errorf("%w: Encabezado/%s is missing", ErrNotDTE, f.name)
		}
	}
	if _, err := rut.Parse(d.Issuer.RUT); err != nil {
		return nil, fmt.Errorf("%w: Encabezado/Emisor/RUTEmisor: %w", ErrNotDTE, err)
	}
	if tr := child(enc, "Transporte"); tr != nil {
		d.Patent, d.Carrier = text(tr, "Patente"), text(tr, "RUTTrans")
		d.DestAddress, d.DestCommune, d.DestCity = text(tr, "DirDest"), text(tr, "CmnaDest"), text(tr, "CiudadDest")
	}

	to := child(enc, "Totales")
	d.Net, d.Exempt, d.VATRate, d.VAT = text(to, "MntNeto"), text(to, "MntExe"), text(to, "TasaIVA"), text(to, "IVA")
	d.Total, d.NotBillable = text(to, "MntTotal"), text(to, "MontoNF")
	if d.Total == "" {
		return nil, fmt.Errorf("%w: Encabezado/Totales/MntTotal is missing", ErrNotDTE)
	}
	for _, t := range elements(to, "ImptoReten") {
		d.OtherTaxes = append(d.OtherTaxes, tax{Code: text(t, "TipoImp"), Rate: text(t, "TasaImp"), Amount: text(t, "MontoImp")})
	}

	for _, l := range elements(doc, "Detalle") {
		ln := line{Number: text(l, "NroLinDet"), Exempt: text(l, "IndExe") == "1", Name: text(l, "NmbItem"),
			Description: text(l, "DscItem"), Quantity: text(l, "QtyItem"), Unit: text(l, "UnmdItem"),
			Price: text(l, "PrcItem"), DiscountPct: text(l, "DescuentoPct"), Discount: text(l, "DescuentoMonto"),
			SurchargePct: text(l, "RecargoPct"), Surcharge: text(l, "RecargoMonto"), Amount: text(l, "MontoItem")}
		for _, c := range elements(l, "CdgItem") {
			if v := text(c, "VlrCodigo"); v != "" {
				ln.Codes = append(ln.Codes, v)
			}
		}
		d.Lines = append(d.Lines, ln)
	}
	if len(d.Lines) == 0 {
		return nil, fmt.Errorf("%w: no Detalle", ErrNotDTE)
	}
	for _, g := range elements(doc, "DscRcgGlobal") {
		d.Globals = append(d.Globals, adjustment{Kind: text(g, "TpoMov"), Text: text(g, "GlosaDR"),
			ValueType: text(g, "TpoValor"), Value: text(g, "ValorDR"), Exempt: text(g, "IndExeDR") == "1"})
	}
	for _, r := range elements(doc, "Referencia") {
		d.References = append(d.References, reference{Type: text(r, "TpoDocRef"), Folio: text(r, "FolioRef"),
			Date: text(r, "FchRef"), Code: text(r, "CodRef"), Reason: text(r, "RazonRef"), Global: text(r, "IndGlobal") == "1"})
	}
	return d, nil
}

func resolutionOf(car *etree.Element) (request.Resolution, bool) {
	n, err := strconv.Atoi(text(car, "NroResol"))
	date := text(car, "FchResol")
	if err != nil || date == "" {
		return request.Resolution{}, false
	}
	return request.Resolution{Number: n, Date: date}, true
}

// child is el's first child element named local, in any namespace (the
// SII's own examples use none); nil when el is nil.
func child(el *etree.Element, local string) *etree.Element {
	if el == nil {
		return nil
	}
	return el.SelectElement(local)
}

func elements(el *etree.Element, local string) []*etree.Element {
	if el == nil {
		return nil
	}
	return el.SelectElements(local)
}

// text is the trimmed text of el's child named local ("" when absent).
func text(el *etree.Element, local string) string {
	if c := child(el, local); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

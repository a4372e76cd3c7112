// Package request defines the DTE request: the one input of the pipeline, the
// JSON document Odoo (or any integrator) sends to enqueue. Its structure is
// fixed by dte-request.schema.json, embedded here; Parse checks a request
// against that schema and against the SII's rules (RUT check digits, totals
// that add up, ISO-8859-1 text, ...) and reports every violation with its
// field path.
package request

import (
	"fmt"

	"github.com/dtecl/pipeline/shared/dtekey"
)

// Document types the pipeline issues.
const (
	TypeFactura        = 33 // factura electrónica
	TypeFacturaExenta  = 34 // factura no afecta o exenta electrónica
	TypeGuiaDespacho   = 52 // guía de despacho electrónica
	TypeNotaDebito     = 56 // nota de débito electrónica
	TypeNotaCredito    = 61 // nota de crédito electrónica
	DefaultVATRate     = 19 // IVA, percent
	MaxLines           = 60 // Detalle lines per DTE
	MaxReferences      = 40
	MaxAdjustments     = 20
	MaxRequestBodySize = 1 << 20 // bytes enqueue accepts
)

// Request is a DTE request.
type Request struct {
	Document    Document     `json:"document"`
	Issuer      Issuer       `json:"issuer"`
	Receiver    Receiver     `json:"receiver"`
	Lines       []Line       `json:"lines"`
	Adjustments []Adjustment `json:"global_adjustments,omitempty"`
	References  []Reference  `json:"references,omitempty"`
	Totals      Totals       `json:"totals"`
	Odoo        Odoo         `json:"odoo"`
}

// Document identifies the document (IdDoc).
type Document struct {
	Type         int    `json:"type"`                    // TipoDTE: 33, 34, 52, 56, 61
	Folio        int64  `json:"folio"`                   // from the CAF range
	IssueDate    string `json:"issue_date"`              // FchEmis, YYYY-MM-DD
	PaymentForm  int    `json:"payment_form,omitempty"`  // FmaPago: 1 contado, 2 crédito, 3 sin costo
	DueDate      string `json:"due_date,omitempty"`      // FchVenc, YYYY-MM-DD
	TransferType int    `json:"transfer_type,omitempty"` // IndTraslado (52 only, required there): 1..9
	DispatchType int    `json:"dispatch_type,omitempty"` // TipoDespacho (52 only): 1..3
	// PrintFormat is the paper the customer's printout is made on:
	// "letter" (default) or "ticket" (80 mm roll; IdDoc/TpoImpresion T).
	PrintFormat string `json:"print_format,omitempty"`
}

// Print formats of Document.PrintFormat.
const (
	PrintLetter = "letter"
	PrintTicket = "ticket"
)

// Resolution is the SII resolution that authorises the issuer (Carátula).
type Resolution struct {
	Number int    `json:"number"` // NroResol; 0 in certification
	Date   string `json:"date"`   // FchResol, YYYY-MM-DD
}

// Issuer is the company issuing the document (Emisor).
type Issuer struct {
	RUT        string     `json:"rut"`
	Name       string     `json:"name"`     // RznSoc
	Activity   string     `json:"activity"` // GiroEmis
	Acteco     []int      `json:"acteco"`   // economic activity codes, 1..4
	Address    string     `json:"address"`  // DirOrigen
	Commune    string     `json:"commune"`  // CmnaOrigen
	City       string     `json:"city,omitempty"`
	Email      string     `json:"email,omitempty"`
	Phone      string     `json:"phone,omitempty"`
	BranchCode int64      `json:"branch_code,omitempty"` // CdgSIISucur
	Resolution Resolution `json:"sii_resolution"`
}

// Receiver is the customer (Receptor).
type Receiver struct {
	RUT      string `json:"rut"`
	Name     string `json:"name"`               // RznSocRecep
	Activity string `json:"activity,omitempty"` // GiroRecep
	Address  string `json:"address,omitempty"`  // DirRecep
	Commune  string `json:"commune,omitempty"`  // CmnaRecep
	City     string `json:"city,omitempty"`
	Contact  string `json:"contact,omitempty"`
	Email    string `json:"email,omitempty"`
	// ExchangeEmail is the receiver's DTE exchange address (the "correo
	// de intercambio" an electronic issuer registers with the SII): when
	// set, the receiver gets the accepted DTE in an EnvioDTE addressed to
	// it (docs/printout.md). Not part of the DTE.
	ExchangeEmail string `json:"exchange_email,omitempty"`
}

// Line is one Detalle line.
type Line struct {
	Code            string  `json:"code,omitempty"` // CdgItem/VlrCodigo (TpoCodigo INT1)
	Name            string  `json:"name"`           // NmbItem
	Description     string  `json:"description,omitempty"`
	Quantity        Decimal `json:"quantity,omitzero"`   // QtyItem, up to 6 decimals
	Unit            string  `json:"unit,omitempty"`      // UnmdItem
	UnitPrice       Decimal `json:"unit_price,omitzero"` // PrcItem, up to 6 decimals
	DiscountPercent Decimal `json:"discount_percent,omitzero"`
	DiscountAmount  int64   `json:"discount_amount,omitempty"`
	Exempt          bool    `json:"exempt,omitempty"` // IndExe = 1
	Amount          int64   `json:"amount"`           // MontoItem, CLP
}

// Adjustment is a global discount or surcharge (DscRcgGlobal).
type Adjustment struct {
	Kind        string  `json:"kind"` // "discount" or "surcharge"
	Description string  `json:"description,omitempty"`
	ValueType   string  `json:"value_type"` // "%" or "$"
	Value       Decimal `json:"value"`
	Exempt      bool    `json:"exempt,omitempty"` // applies to the exempt amount
}

// Reference is a Referencia line.
type Reference struct {
	Type   string `json:"type"`  // TpoDocRef: "33", "801", "SET", ...
	Folio  string `json:"folio"` // FolioRef
	Date   string `json:"date"`  // FchRef
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Totals are the document totals in CLP.
type Totals struct {
	Net     int64    `json:"net"`
	Exempt  int64    `json:"exempt"`
	VATRate *Decimal `json:"vat_rate,omitempty"`
	VAT     int64    `json:"vat"`
	Total   int64    `json:"total"`
}

// Odoo says where the status of this document is reported back.
type Odoo struct {
	Database string `json:"database"`
	MoveID   int64  `json:"move_id"`
	// Handover is set by sign in the events it makes (OdooForEvents),
	// never sent by Odoo (the schema refuses it): what notify needs, once
	// the SII accepted the document, to hand it over to the customer.
	// Every later event copies Odoo, so it reaches notify without submit
	// knowing about it.
	Handover *Handover `json:"handover,omitempty"`
}

// Handover is what the printout and the receiver's EnvioDTE need beyond
// the signed DTE (docs/design.md, "What the customer receives").
type Handover struct {
	Resolution    Resolution `json:"sii_resolution"`           // printed under the timbre; the receiver EnvioDTE's Carátula
	ExchangeEmail string     `json:"exchange_email,omitempty"` // the receiver's DTE exchange address; "" for none
}

// OdooForEvents is r.Odoo with its Handover, for the events about the
// document.
func (r *Request) OdooForEvents() Odoo {
	o := r.Odoo
	o.Handover = &Handover{Resolution: r.Issuer.Resolution, ExchangeEmail: r.Receiver.ExchangeEmail}
	return o
}

// Key is the document's identity across the pipeline. Only call it on a
// request that Parse accepted.
func (r *Request) Key() dtekey.Key {
	k, err := dtekey.New(r.Issuer.RUT, r.Document.Type, r.Document.Folio)
	if err != nil {
		panic(fmt.Sprintf("request.Key on an unvalidated request: %v", err))
	}
	return k
}

// IsNote reports whether the document is a debit or credit note, which must
// reference the document it modifies.
func (r *Request) IsNote() bool {
	return r.Document.Type == TypeNotaDebito || r.Document.Type == TypeNotaCredito
}

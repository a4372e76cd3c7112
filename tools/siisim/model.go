package siisim

import "crypto/x509"

// Inspector reads and verifies what the simulator receives: the signed
// seed and the EnvioDTE. The project's document code implements it (see
// NewProjectInspector): the simulator never carries a second copy of the
// XML signature, TED or CAF logic, only the SII's rules about what the
// results mean.
type Inspector interface {
	// VerifySeed verifies the enveloped XMLDSig of a signed getToken
	// document against the certificate in its KeyInfo and returns that
	// certificate. The document's structure (Semilla, KeyValue) is checked
	// by the simulator.
	VerifySeed(doc []byte) (*x509.Certificate, error)
	// InspectEnvio reads an EnvioDTE (as uploaded, ISO-8859-1) and checks
	// it against the SII's schema, its structure, its SetDTE signature in
	// place and each DTE's signature, TED, CAF and dates. It returns an
	// error only when the file cannot be read as an EnvioDTE at all, or
	// one wrapping ErrUnavailable when a check could not run.
	InspectEnvio(envio []byte) (*Envio, error)
}

// Envio is what an Inspector found in an EnvioDTE.
type Envio struct {
	RutEmisor   string      // Carátula
	RutEnvia    string      // Carátula
	RutReceptor string      // Carátula
	SubTotals   map[int]int // Carátula SubTotDTE: TpoDTE → NroDTE
	// Schema is the check against EnvioDTE_v10.xsd (STATUS 7), with the
	// schema's complaints in SchemaErrors.
	Schema       Check
	SchemaErrors []string
	// Structure is what the signatures rely on: one element per ID, one
	// Documento per DTE, one SetDTE, nothing out of place (STATUS 7).
	Structure Check
	// SetSignature is the SetDTE signature verified in place.
	SetSignature Check
	// SetSigner is the certificate of the SetDTE signature, when present.
	SetSigner *x509.Certificate
	Documents []Document
}

// Document is one DTE of an Envio.
type Document struct {
	Type       int    // TipoDTE
	Folio      int64  // Folio
	Issuer     string // RUTEmisor as written
	Receiver   string // RUTRecep as written
	IssueDate  string // FchEmis, YYYY-MM-DD
	Total      int64  // MntTotal
	References []Reference
	// Signature is the DTE's XMLDSig, verified SII-style (docs/sii-protocol.md §6.3).
	Signature Check
	// TED is the stamp: FRMT against the CAF's public key, and DD against
	// the document's data.
	TED Check
	// CAF is the folio authorisation: FRMA against the SII's key, and its
	// RE/TD/range against the document.
	CAF Check
	// Dates are FchEmis and TmstFirma against the clock and the CAF's FA.
	Dates Check
}

// Reference is one Referencia line.
type Reference struct {
	Type  string // TpoDocRef: "33", "SET", "801", ...
	Folio string // FolioRef
	Code  int    // CodRef: 1 annuls, 2 corrects text, 3 corrects amounts; 0 absent
}

// Check is the result of one verification: OK, or why not.
type Check struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Pass is a passed check.
func Pass() Check { return Check{OK: true} }

// Fail is a failed check with its reason.
func Fail(err error) Check {
	if err == nil {
		return Check{Detail: "failed"}
	}
	return Check{Detail: err.Error()}
}

package siisim

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// siiDteNS is the namespace of DTEs and envelopes.
const siiDteNS = dte.NamespaceSiiDte

// ErrUnavailable is an Inspector's own failure: a check could not run (no
// schema validator, for instance). The simulator answers HTTP 500, never
// a verdict on the document.
var ErrUnavailable = errors.New("siisim: a check could not run")

// projectInspector is the Inspector built on the project's own verifier
// (dte.Verify): one implementation of the signature, schema, structure,
// TED and CAF checks, shared with `dte verify`. Only the mapping of its
// report to what the SII answers is done here.
type projectInspector struct {
	opts dte.VerifyOptions
}

// NewProjectInspector returns the Inspector the simulator uses by default:
// dte.Verify with the SII's keys that sign CAFs (by IDK) and the SII's
// schemas (tools/xsd), failing closed: without a schema validator every
// upload is refused as the simulator's own failure (HTTP 500).
func NewProjectInspector(keys *caf.Keys, schema dte.SchemaValidator) Inspector {
	return &projectInspector{opts: dte.VerifyOptions{Keys: keys, Schema: schema}}
}

// WithLimits sets the input limits of a project Inspector (the
// simulator's MaxFileSize); other Inspectors are returned as they are.
func WithLimits(in Inspector, l xmlsig.Limits) Inspector {
	if p, ok := in.(*projectInspector); ok {
		cp := *p
		cp.opts.Limits = l
		return &cp
	}
	return in
}

// VerifySeed implements Inspector.
func (p *projectInspector) VerifySeed(doc []byte) (*x509.Certificate, error) {
	return VerifySeedSignature(doc)
}

// InspectEnvio implements Inspector.
func (p *projectInspector) InspectEnvio(b []byte) (*Envio, error) {
	r := dte.Verify(b, p.opts)
	if !r.Read.OK() {
		return nil, fmt.Errorf("%s: %s", r.Read.Code, r.Read.Message)
	}
	if r.Kind != dte.KindEnvioDTE || r.Envelope == nil {
		return nil, fmt.Errorf("the root element is %s, not EnvioDTE in %s", r.Kind, siiDteNS)
	}
	if r.Schema.Code == dte.CodeSchemaUnavailable {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, r.Schema.Message)
	}
	env := &Envio{SubTotals: map[int]int{}, Schema: check(r.Schema), Structure: check(r.Structure)}
	if !r.Schema.OK() {
		env.SchemaErrors = r.SchemaProblems
		if len(env.SchemaErrors) == 0 {
			env.SchemaErrors = []string{r.Schema.Message}
		}
	}
	e := r.Envelope
	if c := e.Caratula; c != nil {
		env.RutEmisor, env.RutEnvia, env.RutReceptor = c.Issuer, c.Sender, c.Receiver
		for _, st := range c.SubTotals {
			env.SubTotals[st.Type] += st.Count
		}
	}
	env.SetSignature = check(e.Signature.Check)
	if e.Signature.Check.OK() {
		env.SetSigner = e.Signature.Cert
	}
	for _, d := range r.Documents {
		env.Documents = append(env.Documents, document(d))
	}
	return env, nil
}

// document maps one DTE's report to what the SII judges per document: the
// signature with the certificate's validity when it signed, the TED, the
// CAF, and the dates.
func document(d dte.DocumentReport) Document {
	doc := Document{
		Type: d.Document.Type, Folio: d.Document.Folio, Issuer: d.Document.Issuer, Receiver: d.Document.Receiver,
		IssueDate: d.Document.IssueDate, Total: d.Document.Total,
		Signature: both(d.Signature.Check, d.Signature.Certificate), TED: check(d.TED), CAF: check(d.CAF), Dates: check(d.Dates),
	}
	for _, ref := range d.Document.References {
		doc.References = append(doc.References, Reference{Type: ref.Type, Folio: ref.Folio, Code: ref.Code})
	}
	return doc
}

// check maps a verifier check: passed, or its code and message.
func check(c dte.Check) Check {
	if c.Passed() {
		return Pass()
	}
	return Check{Detail: c.Code + ": " + c.Message}
}

func both(a, b dte.Check) Check {
	if !a.Passed() {
		return check(a)
	}
	return check(b)
}

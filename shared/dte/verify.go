package dte

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Status of one check.
type Status string

// Statuses. Only StatusOK and StatusAllowed count as passed: a check that
// could not be made is never a pass.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusAllowed Status = "allowed" // not verified, let through by a named downgrade (Report.Downgrades)
	// StatusSkipped is not produced any more (a check that cannot be made
	// fails with its code); a report carrying it is not valid.
	StatusSkipped Status = "skipped"
)

// Contexts in which a signature verified (see docs/sii-protocol.md §6.3).
const (
	ContextInPlace     = "in-place"     // with every namespace in scope where it is (SetDTE)
	ContextStandalone  = "standalone"   // the DTE taken out with only the SiiDte namespace: the SII's way
	ContextNoNamespace = "no-namespace" // the DTE taken out with no namespace: the SII's 2003 example
)

// Check is the outcome of one check.
type Check struct {
	Status  Status `json:"status"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// OK reports whether the check passed (StatusOK).
func (c Check) OK() bool { return c.Status == StatusOK }

// Passed reports whether the check counts as passed: ok, or allowed by a
// downgrade.
func (c Check) Passed() bool { return c.Status == StatusOK || c.Status == StatusAllowed }

func ok(msg string) Check { return Check{Status: StatusOK, Message: msg} }

func failed(code, format string, args ...any) Check {
	return Check{Status: StatusFailed, Code: code, Message: fmt.Sprintf(format, args...)}
}

// findings collects what a check found wrong: the check carries the first
// finding's code and every finding's text.
type findings struct {
	code string
	list []string
}

func (f *findings) add(code, format string, args ...any) {
	if f.code == "" {
		f.code = code
	}
	if len(f.list) < 10 {
		f.list = append(f.list, fmt.Sprintf(format, args...))
	}
}

// check is the result: failed with the findings, or ok with msg.
func (f *findings) check(msg string) Check {
	if f.code != "" {
		return failed(f.code, "%s", strings.Join(f.list, "; "))
	}
	return ok(msg)
}

func notChecked(format string, args ...any) Check {
	return failed(CodeNotChecked, format, args...)
}

// SignatureCheck is the outcome of verifying one XML signature.
type SignatureCheck struct {
	Check
	Context     string `json:"context,omitempty"` // Context* in which it verified (or was last tried)
	Signer      string `json:"signer,omitempty"`  // the certificate holder's name
	SignerRUT   string `json:"signer_rut,omitempty"`
	Certificate Check  `json:"certificate"` // validity at the signing time
	// Cert is the signer's certificate, when KeyInfo holds a readable one.
	Cert *x509.Certificate `json:"-"`
}

// DocumentReport is the verification of one DTE. Document is read from the
// element the DTE's signature signs, never from another copy.
type DocumentReport struct {
	Document  Document       `json:"document"`
	Signature SignatureCheck `json:"signature"`
	TED       Check          `json:"ted"`
	CAF       Check          `json:"caf"`
	Dates     Check          `json:"dates"` // FchEmis and TmstFirma against now and the CAF
}

// EnvelopeReport is the verification of an EnvioDTE's own parts.
type EnvelopeReport struct {
	SetID     string         `json:"set_id"`
	Caratula  *Caratula      `json:"caratula,omitempty"`
	Signature SignatureCheck `json:"signature"`      // SetDTE, in place
	Cover     Check          `json:"caratula_check"` // the Carátula against the DTEs, the signer and the clock
}

// Report is the result of Verify: per check, ok or why not.
type Report struct {
	Kind     string `json:"kind,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	// Downgrades are the named checks this report lets pass unverified
	// (DowngradeUnknownCAFKey); empty in a strict report.
	Downgrades []string `json:"downgrades,omitempty"`
	Read       Check    `json:"read"`   // the document could be read as a DTE or envelope, within the limits
	Schema     Check    `json:"schema"` // against the SII's XSD for its root element
	// SchemaProblems are the schema's complaints one by one (Schema's
	// message joins them).
	SchemaProblems []string         `json:"schema_problems,omitempty"`
	Structure      Check            `json:"structure"` // one element per ID, one Documento per DTE, one SetDTE, nothing out of place
	Envelope       *EnvelopeReport  `json:"envelope,omitempty"`
	Documents      []DocumentReport `json:"documents,omitempty"`
}

// Failure is one check that did not pass, located.
type Failure struct {
	Where string `json:"where"` // "document", "SetDTE", "DTE F60T33"
	What  string `json:"what"`  // "read", "schema", "structure", "signature", "certificate", "caratula", "ted", "caf", "dates"
	Check
}

// Failures lists every check that did not pass (failed, or in any state
// other than ok and allowed).
func (r *Report) Failures() []Failure {
	var out []Failure
	add := func(where, what string, c Check) {
		if !c.Passed() {
			out = append(out, Failure{Where: where, What: what, Check: c})
		}
	}
	add("document", "read", r.Read)
	if !r.Read.Passed() {
		return out
	}
	add("document", "schema", r.Schema)
	add("document", "structure", r.Structure)
	if e := r.Envelope; e != nil {
		add("SetDTE", "signature", e.Signature.Check)
		add("SetDTE", "certificate", e.Signature.Certificate)
		add("SetDTE", "caratula", e.Cover)
	}
	for _, d := range r.Documents {
		where := "DTE " + d.Document.ID
		add(where, "signature", d.Signature.Check)
		add(where, "certificate", d.Signature.Certificate)
		add(where, "ted", d.TED)
		add(where, "caf", d.CAF)
		add(where, "dates", d.Dates)
	}
	return out
}

// Codes lists the codes of the failures, in order, without repeats.
func (r *Report) Codes() []string {
	var out []string
	for _, f := range r.Failures() {
		if !contains(out, f.Code) {
			out = append(out, f.Code)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Valid reports whether every check passed. A report with no documents
// is not valid.
func (r *Report) Valid() bool { return len(r.Failures()) == 0 && len(r.Documents) > 0 }

// SchemaValidator validates a document against the SII's schema for its
// kind (KindDTE: DTE_v10.xsd, KindEnvioDTE: EnvioDTE_v10.xsd,
// KindEnvioBOLETA: EnvioBOLETA_v11.xsd). The validator is injected so that
// this package stays free of cgo; the tools give it libxml2 (tools/xsd).
type SchemaValidator interface {
	// ValidateSchema returns nil when doc (its bytes as received) is
	// valid, a *SchemaError when it is not, and any other error when it
	// could not be validated (which Verify reports as a failure too).
	ValidateSchema(kind string, doc []byte) error
}

// SchemaError is a document that does not validate: the schema's
// complaints, in document order.
type SchemaError struct {
	Schema   string   // the entry point, e.g. "EnvioDTE_v10.xsd"
	Problems []string // "line 12: Element 'Folio': '-1' is not a valid value …"
}

// Error lists the problems.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("not valid against %s: %s", e.Schema, strings.Join(e.Problems, "; "))
}

// VerifyOptions configure Verify. The zero value is strict and, lacking
// SII keys and a schema validator, fails those checks.
type VerifyOptions struct {
	// Keys are the SII keys by IDK that CAF signatures are checked with
	// (caf.BuiltinKeys, caf.SIIKeys); without them every CAF check fails
	// (caf-no-keys).
	Keys *caf.Keys
	// Schema validates against the SII's XSD; without it the schema check
	// fails (schema-unavailable).
	Schema SchemaValidator
	// Limits bound the input (xmlsig.Limits; zero fields: the defaults).
	Limits xmlsig.Limits
	// Now is the clock dates are checked against (default time.Now).
	Now func() time.Time
	// Skew is how far in the future FchEmis, TmstFirma and TmstFirmaEnv
	// may be (clocks differ); default DefaultSkew.
	Skew time.Duration
	// AllowUnknownCAFKey downgrades the CAF signature check for a CAF
	// whose IDK has no SII key: "allowed" instead of failed
	// (DowngradeUnknownCAFKey). For certification work only.
	AllowUnknownCAFKey bool
}

// DefaultSkew is the clock difference Verify tolerates for dates in the
// future.
const DefaultSkew = 5 * time.Minute

var siiDteOnly = []xmlsig.NS{{Prefix: "", URI: NamespaceSiiDte}}

// Verify checks a DTE, an EnvioDTE or an EnvioBOLETA the way the SII does,
// reading only what is signed:
//
//   - the input within limits (size, depth, element count, no DTD), before
//     anything is parsed;
//   - the SII's XSD for its root element (opts.Schema);
//   - the structure the signatures rely on: exactly one element per ID,
//     one Documento per DTE, one SetDTE and Carátula, every element in the
//     SiiDte namespace where the SII puts one, the Signature where it
//     belongs;
//   - the SetDTE signature in place; each DTE's signature on the DTE taken
//     out with only the SiiDte namespace (falling back to no namespace,
//     the form of the SII's own old example, only when the digest does not
//     match otherwise); the signed element must be the one read;
//   - each TED against the CAF it carries and against the signed
//     Documento; each CAF against the SII's key for its IDK, the issuer,
//     type, folio and dates; the Carátula against the DTEs and the signer.
//
// It never fails: everything it finds is in the report, and a check that
// could not be made is a failure (fail closed).
func Verify(b []byte, opts VerifyOptions) *Report {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Skew <= 0 {
		opts.Skew = DefaultSkew
	}
	r := &Report{}
	if opts.AllowUnknownCAFKey {
		r.Downgrades = append(r.Downgrades, DowngradeUnknownCAFKey)
	}
	if err := xmlsig.CheckLimits(b, opts.Limits); err != nil {
		r.Read = failed(readCode(err), "%v", err)
		return r
	}
	schemaDone := false
	if opts.Schema != nil && len(b) > treeGate {
		// A large document is streamed through the schema before a tree
		// is built: one that fails costs no more than its bytes.
		kind := rootKind(b)
		if kind == "" {
			r.Read = failed(CodeNotDTE, "%v: the root element is not DTE, EnvioDTE or EnvioBOLETA", ErrNotDTE)
			return r
		}
		r.Kind = kind
		if r.Schema, r.SchemaProblems = checkSchema(opts.Schema, kind, b); !r.Schema.OK() {
			r.Read = ok(fmt.Sprintf("%s of %d bytes, read no further: over %d bytes and not valid against %s", kind, len(b), treeGate, schemaFiles[kind]))
			r.Structure = notChecked("not read: the schema failed")
			return r
		}
		schemaDone = true
	}
	l, err := loadLimits(b, opts.Limits)
	if err != nil {
		r.Read = failed(readCode(err), "%v", err)
		return r
	}
	r.Kind, r.Encoding = l.kind, l.encoding
	r.Read = ok(fmt.Sprintf("%s with %d DTE(s), %s", l.kind, len(l.dtes), l.encoding))
	if !schemaDone {
		r.Schema, r.SchemaProblems = checkSchema(opts.Schema, l.kind, b)
	}
	var set *signedSet
	if l.set != nil {
		// The envelope's DTEs are read from the SetDTE its signature signs.
		set = verifySetSignature(l)
	}
	r.Structure = checkStructure(l)
	now := opts.Now()
	for _, el := range l.dtes {
		r.Documents = append(r.Documents, verifyDTE(el, opts, now))
	}
	if set != nil {
		r.Envelope = verifyEnvelope(l, set, r.Documents, opts, now)
	}
	return r
}

// treeGate is the size above which a document is validated against the
// schema before it is read into a tree, and not read further when invalid.
const treeGate = 1 << 20

// rootKind is the local name of the root element when it is a kind Verify
// reads, found without parsing ("" otherwise).
func rootKind(b []byte) string {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 || i+j+1 >= len(b) {
			return ""
		}
		i += j + 1
		switch b[i] {
		case '?', '!':
			continue // declaration, comment, PI (a DTD was refused before)
		}
		end := i
		for end < len(b) && !strings.ContainsRune(" \t\r\n/>", rune(b[end])) {
			end++
		}
		name := string(b[i:end])
		if k := strings.LastIndexByte(name, ':'); k >= 0 {
			name = name[k+1:]
		}
		if _, ok := schemaFiles[name]; ok {
			return name
		}
		return ""
	}
	return ""
}

// readCode is the code of a refusal to read.
func readCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{xmlsig.ErrTooLarge, CodeTooLarge}, {xmlsig.ErrTooDeep, CodeTooDeep},
		{xmlsig.ErrTooManyElements, CodeTooManyElements}, {xmlsig.ErrDTD, CodeDTD},
		{xmlsig.ErrEncoding, CodeEncoding}, {ErrNotDTE, CodeNotDTE},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeNotXML
}

// schemaFiles names the SII schema each kind is validated against.
var schemaFiles = map[string]string{
	KindDTE: "DTE_v10.xsd", KindEnvioDTE: "EnvioDTE_v10.xsd", KindEnvioBOLETA: "EnvioBOLETA_v11.xsd",
}

// SchemaFor is the SII schema file a kind of document is validated
// against.
func SchemaFor(kind string) string { return schemaFiles[kind] }

func checkSchema(v SchemaValidator, kind string, b []byte) (Check, []string) {
	if v == nil {
		return failed(CodeSchemaUnavailable, "not validated against %s: no schema validator", schemaFiles[kind]), nil
	}
	err := v.ValidateSchema(kind, b)
	var se *SchemaError
	switch {
	case err == nil:
		return ok("valid against " + schemaFiles[kind]), nil
	case errors.As(err, &se):
		return failed(CodeSchemaInvalid, "%v", se), se.Problems
	default:
		return failed(CodeSchemaUnavailable, "not validated against %s: %v", schemaFiles[kind], err), nil
	}
}

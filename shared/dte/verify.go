package dte

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Status of one check.
type Status string

// Statuses.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // could not be checked (no key for it, nothing to check)
)

// Codes say why a check failed or was skipped. They are stable: the SII
// simulator maps them to the SII's answers. Signature checks also use the
// xmlsig codes (digest-mismatch, signature-invalid, key-mismatch,
// no-certificate, signature-malformed, unsupported-algorithm,
// reference-not-found).
const (
	CodeNotXML          = "not-xml"               // unreadable document
	CodeNotDTE          = "not-dte"               // readable, but not a DTE or EnvioDTE
	CodeNoSignature     = "no-signature"          // the Signature is missing
	CodeCertNotValid    = "certificate-not-valid" // the signer's certificate was not valid when it signed
	CodeCaratulaCount   = "caratula-count"        // SubTotDTE does not match the DTEs
	CodeCaratulaIssuer  = "caratula-issuer"       // RutEmisor is not every DTE's issuer
	CodeCaratulaSender  = "caratula-sender"       // RutEnvia is not the signer's RUT
	CodeCaratulaMissing = "caratula-missing"      // no Carátula or missing fields
	CodeTEDMissing      = "ted-missing"           // no TED
	CodeTEDMalformed    = "ted-malformed"         // TED without DD, FRMT or a readable CAF
	CodeTEDSignature    = "ted-signature"         // FRMT does not verify with the CAF key
	CodeTEDMismatch     = "ted-mismatch"          // DD says something else than the document
	CodeCAFSignature    = "caf-signature"         // FRMA does not verify with the SII key
	CodeCAFNoKeys       = "caf-no-keys"           // no SII keys were given (skipped)
	CodeCAFUnknownIDK   = "caf-unknown-idk"       // no SII key for the CAF's IDK (skipped)
	CodeCAFMismatch     = "caf-mismatch"          // the CAF is for another issuer or type
	CodeCAFFolio        = "caf-folio"             // the folio is outside the CAF's range
	CodeCAFExpired      = "caf-expired"           // the CAF had expired on the issue date
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

// OK reports whether the check passed.
func (c Check) OK() bool { return c.Status == StatusOK }

func ok(msg string) Check { return Check{Status: StatusOK, Message: msg} }

func failed(code, format string, args ...any) Check {
	return Check{Status: StatusFailed, Code: code, Message: fmt.Sprintf(format, args...)}
}

func skipped(code, format string, args ...any) Check {
	return Check{Status: StatusSkipped, Code: code, Message: fmt.Sprintf(format, args...)}
}

// SignatureCheck is the outcome of verifying one XML signature.
type SignatureCheck struct {
	Check
	Context     string `json:"context,omitempty"` // Context* in which it verified (or was last tried)
	Signer      string `json:"signer,omitempty"`  // the certificate holder's name
	SignerRUT   string `json:"signer_rut,omitempty"`
	Certificate Check  `json:"certificate"` // validity at the signing time
}

// DocumentReport is the verification of one DTE.
type DocumentReport struct {
	Document  Document       `json:"document"`
	Signature SignatureCheck `json:"signature"`
	TED       Check          `json:"ted"`
	CAF       Check          `json:"caf"`
}

// EnvelopeReport is the verification of an EnvioDTE's own parts.
type EnvelopeReport struct {
	SetID     string         `json:"set_id"`
	Caratula  *Caratula      `json:"caratula,omitempty"`
	Signature SignatureCheck `json:"signature"`      // SetDTE, in place
	Cover     Check          `json:"caratula_check"` // the Carátula against the DTEs and the signer
}

// Report is the result of Verify: per check, ok or why not.
type Report struct {
	Kind      string           `json:"kind,omitempty"`
	Encoding  string           `json:"encoding,omitempty"`
	Read      Check            `json:"read"` // the document could be read as a DTE or EnvioDTE
	Envelope  *EnvelopeReport  `json:"envelope,omitempty"`
	Documents []DocumentReport `json:"documents,omitempty"`
}

// Failure is one failed check, located.
type Failure struct {
	Where string `json:"where"` // "document", "SetDTE", "DTE F60T33"
	What  string `json:"what"`  // "read", "signature", "certificate", "caratula", "ted", "caf"
	Check
}

// Failures lists every failed check (skipped ones are not failures).
func (r *Report) Failures() []Failure {
	var out []Failure
	add := func(where, what string, c Check) {
		if c.Status == StatusFailed {
			out = append(out, Failure{Where: where, What: what, Check: c})
		}
	}
	add("document", "read", r.Read)
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
	}
	return out
}

// Valid reports whether nothing failed.
func (r *Report) Valid() bool { return len(r.Failures()) == 0 }

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Keys are the SII keys by IDK that CAF signatures are checked with;
	// without them the CAF checks are skipped.
	Keys *caf.Keys
}

var siiDteOnly = []xmlsig.NS{{Prefix: "", URI: NamespaceSiiDte}}

// Verify checks a DTE or an EnvioDTE the way the SII does: the SetDTE
// signature in place; each DTE's signature on the DTE taken out with only
// the SiiDte namespace (falling back to no namespace, the form of the
// SII's own old example); each TED against the CAF it carries and against
// the document; each CAF against the SII's key for its IDK, the issuer,
// type, folio and date; the Carátula against the DTEs and the signer. It
// never fails: everything it finds is in the report.
func Verify(b []byte, opts VerifyOptions) *Report {
	r := &Report{}
	l, err := load(b)
	if err != nil {
		code := CodeNotXML
		if errors.Is(err, ErrNotDTE) {
			code = CodeNotDTE
		}
		r.Read = failed(code, "%v", err)
		return r
	}
	r.Kind, r.Encoding = l.kind, l.encoding
	r.Read = ok(fmt.Sprintf("%s with %d DTE(s), %s", l.kind, len(l.dtes), l.encoding))
	in := l.inspect()
	for i, el := range l.dtes {
		r.Documents = append(r.Documents, verifyDTE(el, in.Documents[i], opts))
	}
	if l.kind == KindEnvioDTE {
		r.Envelope = verifyEnvelope(l, in, r.Documents)
	}
	return r
}

func verifyEnvelope(l *loaded, in *Inspection, docs []DocumentReport) *EnvelopeReport {
	e := &EnvelopeReport{SetID: in.SetID, Caratula: in.Caratula}
	var sig *etree.Element
	for _, c := range l.doc.Root().ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsig.Namespace {
			sig = c
		}
	}
	signedAt := ""
	if in.Caratula != nil {
		signedAt = in.Caratula.SignedAt
	}
	e.Signature = verifySignature(sig, "SetDTE", xmlsig.VerifyOptions{}, ContextInPlace, signedAt, nil)
	e.Cover = checkCaratula(in, docs, e.Signature)
	return e
}

// checkCaratula compares the Carátula with the DTEs and the signer.
func checkCaratula(in *Inspection, docs []DocumentReport, sig SignatureCheck) Check {
	c := in.Caratula
	if c == nil {
		return failed(CodeCaratulaMissing, "SetDTE has no Caratula")
	}
	if c.Issuer == "" || c.Sender == "" || c.Receiver == "" || c.ResolutionDate == "" || c.ResolutionNumber == "" || c.SignedAt == "" {
		return failed(CodeCaratulaMissing, "the Caratula lacks RutEmisor, RutEnvia, RutReceptor, FchResol, NroResol or TmstFirmaEnv")
	}
	var problems []string
	code := ""
	note := func(c, format string, args ...any) {
		if code == "" {
			code = c
		}
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	counts := map[int]int{}
	for _, d := range docs {
		counts[d.Document.Type]++
		if d.Document.Issuer != c.Issuer {
			note(CodeCaratulaIssuer, "DTE %s is issued by %s, RutEmisor says %s", d.Document.ID, d.Document.Issuer, c.Issuer)
		}
	}
	declared := map[int]int{}
	for _, st := range c.SubTotals {
		declared[st.Type] += st.Count
	}
	for t, n := range counts {
		if declared[t] != n {
			note(CodeCaratulaCount, "SubTotDTE says %d DTE(s) of type %d, the envelope holds %d", declared[t], t, n)
		}
	}
	for t, n := range declared {
		if _, has := counts[t]; !has {
			note(CodeCaratulaCount, "SubTotDTE says %d DTE(s) of type %d, the envelope holds none", n, t)
		}
	}
	if sig.SignerRUT != "" && sig.SignerRUT != c.Sender {
		note(CodeCaratulaSender, "RutEnvia is %s but the envelope is signed by %s", c.Sender, sig.SignerRUT)
	}
	if code != "" {
		return failed(code, "%s", strings.Join(problems, "; "))
	}
	return ok(fmt.Sprintf("RutEmisor %s, RutEnvia %s, %d DTE(s) as declared", c.Issuer, c.Sender, len(docs)))
}

func verifyDTE(dteEl *etree.Element, d Document, opts VerifyOptions) DocumentReport {
	r := DocumentReport{Document: d}
	docEl := documentElement(dteEl)
	if docEl == nil {
		r.Signature.Check = failed(CodeNotDTE, "no Documento element")
		r.TED = failed(CodeTEDMissing, "no Documento element")
		r.CAF = skipped(CodeTEDMissing, "no TED")
		return r
	}
	var sig *etree.Element
	for _, c := range dteEl.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsig.Namespace {
			sig = c
		}
	}
	r.Signature = verifySignature(sig, "Documento", xmlsig.VerifyOptions{Boundary: dteEl, Base: siiDteOnly}, ContextStandalone, d.SignedAt,
		&xmlsig.VerifyOptions{Boundary: dteEl})
	r.TED, r.CAF = verifyTED(docEl, d, opts)
	return r
}

// verifySignature verifies sig, falling back to a second context when
// given, and checks the certificate's validity at signedAt.
func verifySignature(sig *etree.Element, what string, o xmlsig.VerifyOptions, context, signedAt string, fallback *xmlsig.VerifyOptions) SignatureCheck {
	var sc SignatureCheck
	if sig == nil {
		sc.Check = failed(CodeNoSignature, "%s is not signed: no Signature element", what)
		sc.Certificate = skipped(CodeNoSignature, "no signature")
		return sc
	}
	sc.Context = context
	res, err := xmlsig.Verify(sig, o)
	if err != nil && fallback != nil && (errors.Is(err, xmlsig.ErrDigest) || errors.Is(err, xmlsig.ErrSignature)) {
		if res2, err2 := xmlsig.Verify(sig, *fallback); err2 == nil || !errors.Is(err2, xmlsig.ErrDigest) {
			// Without any namespace the digest matches: report that form.
			sc.Context, res, err = ContextNoNamespace, res2, err2
		}
	}
	var xe *xmlsig.Error
	switch {
	case err == nil:
		msg := fmt.Sprintf("%s signature verifies (%s)", what, sc.Context)
		if sc.Context == ContextNoNamespace {
			msg += "; only without the SiiDte namespace, like the SII's 2003 example: sign DTEs standalone with xmlns=\"" + NamespaceSiiDte + "\""
		}
		sc.Check = ok(msg)
	case errors.As(err, &xe):
		sc.Check = failed(string(xe.Code), "%s signature: %s", what, xe.Msg)
		if sc.Context == ContextNoNamespace {
			sc.Check.Message += " (its digest matches only without the SiiDte namespace, like the SII's 2003 example)"
		}
	default:
		sc.Check = failed(string(xmlsig.CodeMalformed), "%s signature: %v", what, err)
	}
	cert := certOf(res, sig)
	if cert == nil {
		sc.Certificate = skipped(string(xmlsig.CodeNoCertificate), "no readable certificate")
		return sc
	}
	sc.Signer = cert.Subject.CommonName
	if r, err := certs.RUTOf(cert); err == nil {
		sc.SignerRUT = r.String()
	}
	at, err := ParseTimestamp(signedAt)
	if err != nil {
		sc.Certificate = skipped(CodeCertNotValid, "no signing time to check the certificate at")
		return sc
	}
	if err := certs.CheckValidity(cert, at); err != nil {
		sc.Certificate = failed(CodeCertNotValid, "%v", err)
	} else {
		sc.Certificate = ok(fmt.Sprintf("valid at %s (until %s)", signedAt, cert.NotAfter.Format(time.DateOnly)))
	}
	return sc
}

// certOf is the certificate of a verified signature or, when it did not
// verify, whatever certificate its KeyInfo carries.
func certOf(res *xmlsig.Result, sig *etree.Element) *x509.Certificate {
	if res != nil {
		return res.Certificate
	}
	xc := sig.FindElement("KeyInfo/X509Data/X509Certificate")
	if xc == nil {
		return nil
	}
	der, err := decodeB64(xc.Text())
	if err != nil {
		return nil
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// verifyTED checks the TED against its CAF and the document, and the CAF
// against the SII key and the document.
func verifyTED(docEl *etree.Element, d Document, opts VerifyOptions) (Check, Check) {
	ted := child(docEl, "TED")
	if ted == nil {
		return failed(CodeTEDMissing, "Documento has no TED"), skipped(CodeTEDMissing, "no TED, no CAF")
	}
	dd, frmtEl := child(ted, "DD"), child(ted, "FRMT")
	if dd == nil || frmtEl == nil {
		return failed(CodeTEDMalformed, "TED without DD or FRMT"), skipped(CodeTEDMalformed, "no CAF")
	}
	cafEl := child(dd, "CAF")
	if cafEl == nil {
		return failed(CodeTEDMalformed, "DD has no CAF"), failed(CodeTEDMalformed, "DD has no CAF")
	}
	c, err := caf.FromElement(cafEl)
	if err != nil {
		return failed(CodeTEDMalformed, "the CAF in the TED cannot be read: %v", err), failed(CodeTEDMalformed, "%v", err)
	}
	cafCheck := checkCAF(c, d, opts)

	frmt, err := decodeB64(frmtEl.Text())
	if err != nil {
		return failed(CodeTEDMalformed, "FRMT is not base64"), cafCheck
	}
	flat, err := caf.Flatten(dd)
	if err != nil {
		return failed(CodeTEDMalformed, "DD: %v", err), cafCheck
	}
	if err := c.VerifyTED(flat, frmt); err != nil {
		return failed(CodeTEDSignature, "FRMT does not verify with the CAF key over the flattened DD (ISO-8859-1): the DD was changed or stamped with another CAF"), cafCheck
	}
	hard, soft := compareDD(dd, docEl)
	if len(hard) > 0 {
		return failed(CodeTEDMismatch, "the TED says %s", strings.Join(hard, "; ")), cafCheck
	}
	msg := "FRMT verifies with the CAF key and DD matches the document"
	if len(soft) > 0 {
		msg += "; note: " + strings.Join(soft, "; ")
	}
	return ok(msg), cafCheck
}

// compareDD lists what the DD says differently from the document: hard
// differences in the identity and amount fields, soft ones in the names
// (RSR and IT1 are the first 40 characters of names that issuers' systems
// do not all cut and trim alike).
func compareDD(dd, docEl *etree.Element) (hard, soft []string) {
	same := func(field, ddVal, docPath string) {
		if docVal := textOf(docEl, docPath); ddVal != docVal {
			hard = append(hard, fmt.Sprintf("%s %q, the document %q", field, ddVal, docVal))
		}
	}
	same("RE", textOf(dd, "RE"), "Encabezado/Emisor/RUTEmisor")
	same("TD", textOf(dd, "TD"), "Encabezado/IdDoc/TipoDTE")
	same("F", textOf(dd, "F"), "Encabezado/IdDoc/Folio")
	same("FE", textOf(dd, "FE"), "Encabezado/IdDoc/FchEmis")
	same("RR", textOf(dd, "RR"), "Encabezado/Receptor/RUTRecep")
	same("MNT", textOf(dd, "MNT"), "Encabezado/Totales/MntTotal")
	prefix := func(field, ddVal, docPath string) {
		if docVal := textOf(docEl, docPath); !strings.HasPrefix(docVal, strings.TrimSpace(ddVal)) {
			soft = append(soft, fmt.Sprintf("%s %q is not the start of %q", field, ddVal, docVal))
		}
	}
	prefix("RSR", textOf(dd, "RSR"), "Encabezado/Receptor/RznSocRecep")
	prefix("IT1", textOf(dd, "IT1"), "Detalle/NmbItem")
	return hard, soft
}

func checkCAF(c *caf.CAF, d Document, opts VerifyOptions) Check {
	if c.Issuer.String() != d.Issuer || c.Type != d.Type {
		return failed(CodeCAFMismatch, "%s is for issuer %s type %d; the document is issuer %s type %d", c, c.Issuer, c.Type, d.Issuer, d.Type)
	}
	if !c.Contains(d.Folio) {
		return failed(CodeCAFFolio, "folio %d is outside %s", d.Folio, c)
	}
	if issued, err := time.ParseInLocation(time.DateOnly, d.IssueDate, Chile); err == nil && c.Expired(issued) {
		exp, _ := c.ExpiresAt()
		return failed(CodeCAFExpired, "%s expired on %s, before the issue date %s", c, exp.Format(time.DateOnly), d.IssueDate)
	}
	if opts.Keys == nil {
		return skipped(CodeCAFNoKeys, "%s: its SII signature was not checked (no SII keys given)", c)
	}
	if err := c.VerifySII(opts.Keys); err != nil {
		if errors.Is(err, caf.ErrUnknownIDK) {
			return skipped(CodeCAFUnknownIDK, "%v", err)
		}
		return failed(CodeCAFSignature, "%v", err)
	}
	return ok(fmt.Sprintf("%s signed by the SII", c))
}

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

// verifyDTE verifies one DTE element. Everything after the signature reads
// the element the signature references, and that element must be the DTE's
// one Documento (or Exportaciones, Liquidacion): what is reported is what
// was digested.
func verifyDTE(dteEl *etree.Element, opts VerifyOptions, now time.Time) DocumentReport {
	var r DocumentReport
	sig := signatureChild(dteEl)
	docEl := documentElement(dteEl)
	var res *xmlsig.Result
	r.Signature, res = verifySignature(sig, "Documento", xmlsig.VerifyOptions{Boundary: dteEl, Base: siiDteOnly}, ContextStandalone,
		&xmlsig.VerifyOptions{Boundary: dteEl})
	if ref := referenced(res); ref != nil {
		if isDocumentElement(ref) {
			docEl = ref // what was digested is what is read, wherever it is
		}
		if !isDocumentElement(ref) || ref.Parent() != dteEl {
			r.Signature.Check = failed(CodeWrongRef, "the DTE's signature signs <%s> inside <%s>, not the Documento under <DTE>: signature wrapping", ref.Tag, parentTag(ref))
		}
	}
	if docEl == nil {
		r.Signature.Check = failed(CodeMisplaced, "the DTE has no Documento, Exportaciones or Liquidacion")
		r.Signature.Certificate = notChecked("no document")
		r.TED, r.CAF, r.Dates = notChecked("no document"), notChecked("no document"), notChecked("no document")
		return r
	}
	r.Document = readDocumentEl(docEl)
	r.Signature.Certificate = checkCertificate(&r.Signature, res, sig, r.Document.SignedAt, "TmstFirma")
	var c *caf.CAF
	r.TED, r.CAF, c = verifyTED(docEl, r.Document, opts)
	r.Dates = checkDates(r.Document, c, now, opts.Skew)
	return r
}

func referenced(res *xmlsig.Result) *etree.Element {
	if res == nil {
		return nil
	}
	return res.Referenced
}

func signatureChild(el *etree.Element) *etree.Element {
	var sig *etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == xmlsig.Namespace {
			sig = c
		}
	}
	return sig
}

// verifySignature verifies sig in the context o. When fallback is given and
// the digest does not match in o, it tries fallback: if the digest matches
// there, that context's verdict is the signature's (the namespace was the
// only difference); if not, the content changed and the first verdict
// stands. The namespace is blamed only when it is the cause.
func verifySignature(sig *etree.Element, what string, o xmlsig.VerifyOptions, context string, fallback *xmlsig.VerifyOptions) (SignatureCheck, *xmlsig.Result) {
	var sc SignatureCheck
	if sig == nil {
		sc.Check = failed(CodeNoSignature, "%s is not signed: no Signature element", what)
		return sc, nil
	}
	sc.Context = context
	res, err := xmlsig.Verify(sig, o)
	if err != nil && fallback != nil && errors.Is(err, xmlsig.ErrDigest) {
		if res2, err2 := xmlsig.Verify(sig, *fallback); !errors.Is(err2, xmlsig.ErrDigest) {
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
		sc.Check = failed(CodeSignatureMalformed, "%s signature: %v", what, err)
	}
	return sc, res
}

// checkCertificate names the signer and checks the certificate was valid
// at the signing time the signed content declares.
func checkCertificate(sc *SignatureCheck, res *xmlsig.Result, sig *etree.Element, signedAt, field string) Check {
	var cert *x509.Certificate
	if res != nil {
		cert = res.Certificate
	}
	if cert == nil && sig != nil {
		cert = certOf(sig)
	}
	if cert == nil {
		return failed(CodeNoCertificate, "no readable certificate in KeyInfo")
	}
	sc.Cert = cert
	sc.Signer = cert.Subject.CommonName
	if r, err := certs.RUTOf(cert); err == nil {
		sc.SignerRUT = r.String()
	}
	at, err := ParseTimestamp(signedAt)
	if err != nil {
		return failed(CodeSigningTime, "%s %q is not a signing time (AAAA-MM-DDTHH:MM:SS): the certificate cannot be checked", field, signedAt)
	}
	if err := certs.CheckValidity(cert, at); err != nil {
		code := CodeCertExpired
		if errors.Is(err, certs.ErrNotYetValid) {
			code = CodeCertNotYet
		}
		return failed(code, "at %s %s: %v", field, signedAt, err)
	}
	return ok(fmt.Sprintf("valid at %s (until %s)", signedAt, cert.NotAfter.Format(time.DateOnly)))
}

// certOf is whatever certificate a signature's KeyInfo carries.
func certOf(sig *etree.Element) *x509.Certificate {
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
// against the SII key and the document. It returns the CAF when readable.
func verifyTED(docEl *etree.Element, d Document, opts VerifyOptions) (Check, Check, *caf.CAF) {
	ted := child(docEl, "TED")
	if ted == nil {
		return failed(CodeTEDMissing, "Documento has no TED"), notChecked("no TED, no CAF"), nil
	}
	dd, frmtEl := child(ted, "DD"), child(ted, "FRMT")
	if dd == nil || frmtEl == nil {
		return failed(CodeTEDMalformed, "TED without DD or FRMT"), notChecked("no DD, no CAF"), nil
	}
	cafEl := child(dd, "CAF")
	if cafEl == nil {
		return notChecked("the TED cannot be checked without the CAF"), failed(CodeCAFMissing, "DD has no CAF"), nil
	}
	c, err := caf.FromElement(cafEl)
	if err != nil {
		return notChecked("the TED cannot be checked without a readable CAF"), failed(CodeCAFMalformed, "the CAF in the TED cannot be read: %v", err), nil
	}
	cafCheck := checkCAF(c, d, opts)

	frmt, err := decodeB64(frmtEl.Text())
	if err != nil {
		return failed(CodeTEDMalformed, "FRMT is not base64"), cafCheck, c
	}
	flat, err := caf.Flatten(dd)
	if err != nil {
		return failed(CodeTEDMalformed, "DD: %v", err), cafCheck, c
	}
	if err := c.VerifyTED(flat, frmt); err != nil {
		return failed(CodeTEDSignature, "FRMT does not verify with the CAF key over the flattened DD (ISO-8859-1): the DD was changed or stamped with another CAF"), cafCheck, c
	}
	hard, soft := compareDD(dd, docEl)
	if len(hard) > 0 {
		return failed(CodeTEDMismatch, "the TED says %s", strings.Join(hard, "; ")), cafCheck, c
	}
	msg := "FRMT verifies with the CAF key and DD matches the document"
	if len(soft) > 0 {
		msg += "; note: " + strings.Join(soft, "; ")
	}
	return ok(msg), cafCheck, c
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
		return failed(CodeCAFNoKeys, "%s: its SII signature (FRMA) could not be checked: no SII keys given", c)
	}
	if err := c.VerifySII(opts.Keys); err != nil {
		if errors.Is(err, caf.ErrUnknownIDK) {
			if opts.AllowUnknownCAFKey {
				return Check{Status: StatusAllowed, Code: CodeCAFUnknownIDK,
					Message: fmt.Sprintf("%s: no SII key for IDK %d; its signature (FRMA) was NOT checked (--allow-unknown-caf-key)", c, c.IDK)}
			}
			return failed(CodeCAFUnknownIDK, "%s: no SII key for IDK %d, so its signature (FRMA) cannot be checked: a CAF anyone can make", c, c.IDK)
		}
		return failed(CodeCAFSignature, "%v", err)
	}
	return ok(fmt.Sprintf("%s signed by the SII", c))
}

// checkDates checks FchEmis and TmstFirma against the clock and the CAF
// (when one could be read).
func checkDates(d Document, c *caf.CAF, now time.Time, skew time.Duration) Check {
	var found findings
	note := found.add
	limit := now.Add(skew)
	issued, errIssued := time.ParseInLocation(time.DateOnly, d.IssueDate, Chile)
	if errIssued != nil {
		note(CodeDateMalformed, "FchEmis %q is not a date", d.IssueDate)
	} else if issued.After(limit) {
		note(CodeIssuedInFuture, "FchEmis %s is in the future (now %s)", d.IssueDate, Timestamp(now))
	}
	signed, errSigned := ParseTimestamp(d.SignedAt)
	if errSigned != nil {
		note(CodeSigningTime, "TmstFirma %q is not a timestamp", d.SignedAt)
	} else if signed.After(limit) {
		note(CodeSignedInFuture, "TmstFirma %s is in the future (now %s)", d.SignedAt, Timestamp(now))
	}
	if errIssued == nil && errSigned == nil && signed.Before(issued) {
		note(CodeSignedBeforeIssu, "TmstFirma %s is before FchEmis %s", d.SignedAt, d.IssueDate)
	}
	if c != nil {
		fa, err := time.ParseInLocation(time.DateOnly, c.Authorized, Chile)
		if err == nil && errIssued == nil && issued.Before(fa) {
			note(CodeIssuedBeforeCAF, "FchEmis %s is before the CAF was authorised (FA %s)", d.IssueDate, c.Authorized)
		}
		if err == nil && errSigned == nil && signed.Before(fa) {
			note(CodeSignedBeforeCAF, "TmstFirma %s is before the CAF was authorised (FA %s)", d.SignedAt, c.Authorized)
		}
	}
	msg := fmt.Sprintf("issued %s, signed %s", d.IssueDate, d.SignedAt)
	if c != nil {
		msg += ", after the CAF's FA " + c.Authorized
	}
	return found.check(msg)
}

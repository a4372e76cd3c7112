package dte

import (
	"fmt"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/xmlsig"
)

// verifyEnvelope checks the SetDTE signature in place and the Carátula of
// the signed SetDTE against the DTEs, the signer and the clock.
func verifyEnvelope(l *loaded, docs []DocumentReport, opts VerifyOptions, now time.Time) *EnvelopeReport {
	e := &EnvelopeReport{SetID: l.set.SelectAttrValue("ID", ""), Caratula: readCaratula(child(l.set, "Caratula"))}
	sig := signatureChild(l.doc.Root())
	var res *xmlsig.Result
	e.Signature, res = verifySignature(sig, "SetDTE", xmlsig.VerifyOptions{}, ContextInPlace, nil)
	if res != nil && res.Referenced != nil && res.Referenced != l.set {
		e.Signature.Check = failed(CodeWrongRef, "the envelope's signature signs <%s ID=%q>, not the SetDTE that is read", res.Referenced.Tag, res.Referenced.SelectAttrValue("ID", ""))
	}
	signedAt := ""
	if e.Caratula != nil {
		signedAt = e.Caratula.SignedAt
	}
	if sig != nil {
		e.Signature.Certificate = checkCertificate(&e.Signature, res, sig, signedAt, "TmstFirmaEnv")
	} else {
		e.Signature.Certificate = notChecked("no signature")
	}
	e.Cover = checkCaratula(e.Caratula, docs, e.Signature, now, opts.Skew)
	return e
}

// checkCaratula compares the Carátula with the DTEs, the signer and the
// clock.
func checkCaratula(c *Caratula, docs []DocumentReport, sig SignatureCheck, now time.Time, skew time.Duration) Check {
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
	if at, err := ParseTimestamp(c.SignedAt); err == nil && at.After(now.Add(skew)) {
		note(CodeSignedInFuture, "TmstFirmaEnv %s is in the future (now %s)", c.SignedAt, Timestamp(now))
	}
	if code != "" {
		return failed(code, "%s", strings.Join(problems, "; "))
	}
	return ok(fmt.Sprintf("RutEmisor %s, RutEnvia %s, %d DTE(s) as declared", c.Issuer, c.Sender, len(docs)))
}

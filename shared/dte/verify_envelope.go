package dte

import (
	"fmt"
	"time"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// signedSet is the verification of an envelope's signature.
type signedSet struct {
	sig   *etree.Element
	check SignatureCheck
	res   *xmlsig.Result
}

// verifySetSignature verifies the envelope's signature in place and makes
// the SetDTE it signs the one that is read (with its DTEs), wherever it
// is: what is reported is what was digested. A signed SetDTE that is not
// the root's child, or a signed element that is no SetDTE, fails as a
// wrong reference.
func verifySetSignature(l *loaded) *signedSet {
	root := l.doc.Root()
	s := &signedSet{sig: signatureChild(root)}
	s.check, s.res = verifySignature(s.sig, "SetDTE", xmlsig.VerifyOptions{}, ContextInPlace, nil)
	if s.res == nil || s.res.Referenced == nil {
		return s
	}
	ref := s.res.Referenced
	if ref.Tag == "SetDTE" && ref != l.set {
		l.set, l.dtes = ref, nil
		for _, c := range ref.ChildElements() {
			if c.Tag == "DTE" {
				l.dtes = append(l.dtes, c)
			}
		}
	}
	if ref.Tag != "SetDTE" || ref.Parent() != root {
		s.check.Check = failed(CodeWrongRef, "the envelope's signature signs <%s ID=%q> inside <%s>, not the SetDTE under <%s>: signature wrapping",
			ref.Tag, ref.SelectAttrValue("ID", ""), parentTag(ref), root.Tag)
	}
	return s
}

func parentTag(el *etree.Element) string {
	if p := el.Parent(); p != nil && p.Tag != "" {
		return p.Tag
	}
	return "the document"
}

// verifyEnvelope checks the certificate of the envelope's signature and the
// Carátula of the signed SetDTE against the DTEs, the signer and the clock.
func verifyEnvelope(l *loaded, set *signedSet, docs []DocumentReport, opts VerifyOptions, now time.Time) *EnvelopeReport {
	e := &EnvelopeReport{SetID: l.set.SelectAttrValue("ID", ""), Caratula: readCaratula(child(l.set, "Caratula"))}
	sig, res := set.sig, set.res
	e.Signature = set.check
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
	var found findings
	note := found.add
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
	return found.check(fmt.Sprintf("RutEmisor %s, RutEnvia %s, %d DTE(s) as declared", c.Issuer, c.Sender, len(docs)))
}

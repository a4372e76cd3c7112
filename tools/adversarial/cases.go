package adversarial

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Simulator answers.
var (
	simAccepted  = Simulator{Status: 0, Document: "ACE"}
	simRejected  = Simulator{Status: 0, Document: "RCH"}
	simSchema    = Simulator{Status: 7}
	simSignature = Simulator{Status: 8}
)

func strp(s string) *string { return &s }

// dteCases are the attacks on a standalone DTE.
func (g *gen) dteCases() error {
	k := g.k
	orig, err := g.sign(k.Signer, "legit", folio, issueDate, signedAt)
	if err != nil {
		return err
	}
	other, err := g.sign(k.Signer, "legit", folio+1, issueDate, signedAt)
	if err != nil {
		return err
	}
	g.add(Case{File: "dte-valid.xml", Kind: dte.KindDTE, Attack: "none: a DTE signed by its issuer, stamped with its CAF", Valid: true,
		Totals: []int64{total}, Simulator: simAccepted}, orig)

	doc := between(orig, "<Documento ", "</Documento>")
	sig := between(orig, "<Signature ", "</Signature>")
	head := orig[:bytes.Index(orig, []byte("<Documento "))]
	tail := []byte("</DTE>\n")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	tampered, err := replace(orig, fmt.Appendf(nil, "<MntTotal>%d</MntTotal>", total), fmt.Appendf(nil, "<MntTotal>%d</MntTotal>", forgedTotal))
	if err != nil {
		return err
	}
	g.add(Case{File: "dte-tampered-amount.xml", Kind: dte.KindDTE, Attack: "MntTotal changed after signing",
		Codes: []string{dte.CodeDigest, dte.CodeTEDMismatch}, Simulator: simRejected}, tampered)

	// Signature wrapping: a forged Documento where the verifier used to
	// read, the signed original somewhere else in the file.
	wraps := []struct {
		file, attack string
		doc          []byte
		codes        []string
	}{
		{"dte-wrap-after-signature.xml", "forged Documento (other total, new ID) first; the signed original after the Signature",
			cat(head, forge(doc, strp("F1042T33X")), sig, doc, tail), []string{dte.CodeSchemaInvalid, dte.CodeExtraCopy}},
		{"dte-wrap-in-object.xml", "forged Documento in its place; the signed original inside ds:Object in the Signature",
			cat(head, forge(doc, strp("F1042T33X")), bytes.Replace(sig, []byte("</Signature>"), cat([]byte("<Object>"), doc, []byte("</Object></Signature>")), 1), tail),
			[]string{dte.CodeSchemaInvalid, dte.CodeWrongElement, dte.CodeWrongRef}},
		{"dte-wrap-nested.xml", "the signed original nested inside the forged Documento",
			cat(head, bytes.Replace(forge(doc, strp("F1042T33X")), []byte("</Documento>"), cat(doc, []byte("</Documento>")), 1), sig, tail),
			[]string{dte.CodeSchemaInvalid, dte.CodeExtraCopy, dte.CodeWrongRef}},
		{"dte-wrap-copy-without-id.xml", "a forged copy without ID first; the signed original after the Signature",
			cat(head, forge(doc, strp("")), sig, doc, tail), []string{dte.CodeSchemaInvalid, dte.CodeExtraCopy}},
		{"dte-wrap-same-id.xml", "a forged copy with the same ID first; the signed original after the Signature",
			cat(head, forge(doc, nil), sig, doc, tail), []string{dte.CodeSchemaInvalid, dte.CodeDuplicateID}},
	}
	for _, w := range wraps {
		g.add(Case{File: w.file, Kind: dte.KindDTE, Attack: "signature wrapping: " + w.attack, Codes: w.codes, Totals: []int64{total}, Simulator: simSchema}, w.doc)
	}
	// The same-ID copy is never read as the document: no total to show.
	g.corpus.Manifest.Cases[len(g.corpus.Manifest.Cases)-1].Totals = nil

	legit := g.cafs["legit"]
	type editCase struct {
		file, attack string
		change       func(root, doc *etree.Element) error
		stampWith    string // CAF whose key stamps the TED again ("" keeps the TED)
		signWith     string // "signer", "attacker", "expired" ("" keeps the signature)
		codes        []string
		allowUnknown bool
		from         []byte
	}
	folioTo := func(f string) func(root, doc *etree.Element) error {
		return func(root, doc *etree.Element) error {
			doc.RemoveAttr("ID")
			doc.CreateAttr("ID", "F"+f+"T33")
			if err := setText(doc, "Encabezado/IdDoc/Folio", f); err != nil {
				return err
			}
			return setText(doc, "TED/DD/F", f)
		}
	}
	otherTED := func(root, doc *etree.Element) error {
		o, err := xmlsig.ParseDocument(other)
		if err != nil {
			return err
		}
		ted := doc.SelectElement("TED")
		i := ted.Index()
		doc.RemoveChildAt(i)
		doc.InsertChildAt(i, o.Root().FindElement("Documento/TED").Copy())
		return nil
	}
	cafOf := func(name string) func(root, doc *etree.Element) error {
		return func(root, doc *etree.Element) error {
			cf, err := xmlsig.ParseDocument(map[string][]byte{"unknown": k.CAFUnknownIDK, "known": k.CAFKnownIDK}[name])
			if err != nil {
				return err
			}
			dd := doc.FindElement("TED/DD")
			old := dd.SelectElement("CAF")
			i := old.Index()
			dd.RemoveChildAt(i)
			dd.InsertChildAt(i, cf.Root().SelectElement("CAF").Copy())
			return nil
		}
	}
	forgeTotal := func(root, doc *etree.Element) error {
		return setText(doc, "Encabezado/Totales/MntTotal", strconv.Itoa(forgedTotal))
	}
	edits := []editCase{
		{file: "dte-ted-swap.xml", attack: "the TED of another document (folio 1043) put in, not signed again",
			change: otherTED, codes: []string{dte.CodeDigest, dte.CodeTEDMismatch}},
		{file: "dte-ted-swap-resigned.xml", attack: "the TED of another document (folio 1043) put in and the Documento signed again by its issuer",
			change: otherTED, signWith: "signer", codes: []string{dte.CodeTEDMismatch}},
		{file: "dte-resigned-other-key.xml", attack: "total changed, signed again with the attacker's key; KeyValue the attacker's, X509Certificate the issuer's",
			change: forgeTotal, signWith: "attacker+issuer-certificate", codes: []string{dte.CodeKeyMismatch, dte.CodeTEDMismatch}},
		{file: "dte-keyvalue-mismatch.xml", attack: "the issuer's signature with the attacker's key in KeyValue",
			signWith: "keyvalue-swap", codes: []string{dte.CodeKeyMismatch}},
		{file: "dte-self-made-certificate.xml", attack: "total changed and signed again with a certificate the attacker made (own CA, the issuer's RUT)",
			change: forgeTotal, signWith: "attacker", codes: []string{dte.CodeTEDMismatch}},
		{file: "dte-forged-caf-unknown-idk.xml", attack: "stamped with a CAF the attacker made and signed with its own key, IDK 999 (no SII key)",
			change: cafOf("unknown"), stampWith: "unknown", signWith: "attacker", codes: []string{dte.CodeCAFUnknownIDK}, allowUnknown: true},
		{file: "dte-forged-caf-known-idk.xml", attack: "stamped with a CAF the attacker made and signed with its own key, claiming IDK 100",
			change: cafOf("known"), stampWith: "known", signWith: "attacker", codes: []string{dte.CodeCAFSignature}},
		{file: "dte-caf-edited-range.xml", attack: "the issuer's CAF with its range edited (1-5000 to 1-9000) to stamp folio 6000",
			change: func(root, doc *etree.Element) error {
				if err := folioTo("6000")(root, doc); err != nil {
					return err
				}
				return setText(doc, "TED/DD/CAF/DA/RNG/H", "9000")
			}, stampWith: "legit", signWith: "signer", codes: []string{dte.CodeCAFSignature}},
		{file: "dte-folio-outside-caf.xml", attack: "folio 6000 stamped with the CAF for folios 1-5000",
			change: folioTo("6000"), stampWith: "legit", signWith: "signer", codes: []string{dte.CodeCAFFolio}},
		{file: "dte-expired-certificate.xml", attack: "signed with the issuer's certificate of 2019-2020 (expired at TmstFirma)",
			signWith: "expired", codes: []string{dte.CodeCertExpired}},
		{file: "dte-issued-in-future.xml", attack: "FchEmis and TmstFirma in 2049",
			change: func(root, doc *etree.Element) error {
				for path, v := range map[string]string{"Encabezado/IdDoc/FchEmis": "2049-01-02", "TED/DD/FE": "2049-01-02", "TmstFirma": "2049-01-02T10:00:00"} {
					if err := setText(doc, path, v); err != nil {
						return err
					}
				}
				return nil
			}, stampWith: "legit", signWith: "signer", codes: []string{dte.CodeIssuedInFuture, dte.CodeCertExpired}},
	}
	for _, e := range edits {
		var stamp *caf.CAF
		switch e.stampWith {
		case "":
		case "legit":
			stamp = legit
		default:
			stamp = g.cafs[e.stampWith]
		}
		x, err := g.apply(orig, e.change, stamp, e.signWith)
		if err != nil {
			return fmt.Errorf("%s: %w", e.file, err)
		}
		g.add(Case{File: e.file, Kind: dte.KindDTE, Attack: e.attack, Codes: e.codes, ValidAllowingUnknownCAFKey: e.allowUnknown, Simulator: simRejected}, x)
	}

	// Dates the signer's own clock got wrong.
	before, err := g.sign(k.Signer, "legit", folio, "2026-10-15", time.Date(2026, 10, 15, 9, 0, 0, 0, dte.Chile))
	if err != nil {
		return err
	}
	g.add(Case{File: "dte-signed-before-caf.xml", Kind: dte.KindDTE, Attack: "issued and signed 2026-10-15, before the CAF's FA 2026-11-01",
		Codes: []string{dte.CodeIssuedBeforeCAF}, Simulator: simRejected}, before)
	early, err := g.sign(k.Signer, "legit", folio, issueDate, signedAt.AddDate(0, 0, -1))
	if err != nil {
		return err
	}
	g.add(Case{File: "dte-signed-before-issue.xml", Kind: dte.KindDTE, Attack: "TmstFirma the day before FchEmis",
		Codes: []string{dte.CodeSignedBeforeIssu}, Simulator: simRejected}, early)

	// An ID on the wrong element: the issuer's system signs Encabezado
	// only, leaving the TED and the lines unsigned.
	wrongID, err := signEncabezado(orig, k)
	if err != nil {
		return err
	}
	g.add(Case{File: "dte-id-on-encabezado.xml", Kind: dte.KindDTE, Attack: "the ID on Encabezado and the signature over it alone (TED and lines unsigned)",
		Codes: []string{dte.CodeSchemaInvalid, dte.CodeWrongElement, dte.CodeWrongRef}, Simulator: simSchema}, wrongID)

	// Hostile XML.
	body := orig[bytes.Index(orig, []byte("<DTE ")):]
	decl := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n")
	xxe, err := replace(body, []byte("<RznSocRecep>"), []byte("<RznSocRecep>&xxe;"))
	if err != nil {
		return err
	}
	hostile := []struct {
		file, attack string
		doc          []byte
		code         string
	}{
		{"dte-xxe.xml", "an external entity (file:///etc/passwd) in RznSocRecep",
			cat(decl, []byte("<!DOCTYPE DTE [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"), xxe), dte.CodeDTD},
		{"dte-external-dtd.xml", "an external DTD on the network",
			cat(decl, []byte("<!DOCTYPE DTE SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n"), body), dte.CodeDTD},
		{"dte-billion-laughs.xml", "nested entities (billion laughs)", cat(decl, []byte(laughs), bytes.Replace(body, []byte("<RznSocRecep>"), []byte("<RznSocRecep>&lol9;"), 1)), dte.CodeDTD},
		{"dte-deep.xml", "10 000 nested elements", cat(decl, bytes.Replace(body, []byte("<Documento "), cat([]byte(strings.Repeat("<a>", 10000)), []byte(strings.Repeat("</a>", 10000)), []byte("<Documento ")), 1)), dte.CodeTooDeep},
	}
	for _, h := range hostile {
		g.add(Case{File: h.file, Kind: dte.KindDTE, Attack: h.attack, Codes: []string{h.code}, Simulator: simSchema}, h.doc)
	}
	g.add(Case{Kind: dte.KindEnvioDTE, Generated: "many-elements", Bytes: 50 << 20, Attack: "50 MiB of small elements (made by the tests)",
		Codes: []string{dte.CodeTooLarge}, Simulator: Simulator{Status: 2}}, nil)
	return nil
}

const laughs = `<!DOCTYPE DTE [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
`

// apply edits a signed DTE and signs it again as signWith says.
func (g *gen) apply(x []byte, change func(root, doc *etree.Element) error, c *caf.CAF, signWith string) ([]byte, error) {
	k := g.k
	switch signWith {
	case "":
		return edit(x, change, c, nil)
	case "signer":
		return edit(x, change, c, k.Signer)
	case "attacker":
		return edit(x, change, c, k.Attacker)
	case "expired":
		return edit(x, change, c, k.Expired)
	case "attacker+issuer-certificate":
		y, err := edit(x, change, c, k.Attacker)
		if err != nil {
			return nil, err
		}
		return replace(y, []byte(certB64(k.Attacker)), []byte(certB64(k.Signer)))
	case "keyvalue-swap":
		y, err := edit(x, change, c, nil)
		if err != nil {
			return nil, err
		}
		return replace(y, between(y, "<Modulus>", "</Modulus>"), []byte("<Modulus>"+modulusB64(k.Attacker)+"</Modulus>"))
	}
	return nil, fmt.Errorf("adversarial: sign with %q?", signWith)
}

// signEncabezado moves the Documento's ID to Encabezado and signs that
// element alone, the Signature staying where the SII's structure has it.
func signEncabezado(x []byte, k *Keys) ([]byte, error) {
	d, err := xmlsig.ParseDocument(x)
	if err != nil {
		return nil, err
	}
	root := d.Root()
	root.RemoveChild(root.SelectElement("Signature"))
	doc := root.SelectElement("Documento")
	id := doc.SelectAttrValue("ID", "")
	doc.RemoveAttr("ID")
	enc := doc.SelectElement("Encabezado")
	enc.CreateAttr("ID", id)
	xs, err := xmlsig.NewSigner(k.Signer)
	if err != nil {
		return nil, err
	}
	sig, err := xs.SignElement(enc)
	if err != nil {
		return nil, err
	}
	doc.RemoveChild(sig)
	root.AddChild(sig)
	return write(root)
}

// envelopeCases are the attacks on an EnvioDTE.
func (g *gen) envelopeCases() error {
	k := g.k
	a, err := g.sign(k.Signer, "legit", folio, issueDate, signedAt)
	if err != nil {
		return err
	}
	b, err := g.sign(k.Signer, "legit", folio+1, issueDate, signedAt)
	if err != nil {
		return err
	}
	env, err := g.envelope(a, b)
	if err != nil {
		return err
	}
	g.add(Case{File: "env-valid.xml", Kind: dte.KindEnvioDTE, Attack: "none: two DTEs in an EnvioDTE signed by their sender", Valid: true,
		Totals: []int64{total, total}, Simulator: Simulator{Status: 0, Document: "ACE"}}, env)

	set := between(env, "<SetDTE ", "</SetDTE>")
	sig := env[bytes.LastIndex(env, []byte("<Signature ")):bytes.LastIndex(env, []byte("</EnvioDTE>"))]
	head := env[:bytes.Index(env, []byte("<SetDTE "))]
	tail := []byte("</EnvioDTE>\n")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// The forged SetDTE: one DTE fewer, the Carátula edited to match.
	forged := bytes.Replace(set, between(set, "<DTE ", "</DTE>"), nil, 1)
	forged = bytes.Replace(forged, []byte("<NroDTE>2</NroDTE>"), []byte("<NroDTE>1</NroDTE>"), 1)
	forgedNewID := bytes.Replace(forged, []byte(`<SetDTE ID="SetDoc">`), []byte(`<SetDTE ID="SetDocX">`), 1)
	wraps := []struct {
		file, attack string
		doc          []byte
		codes        []string
		totals       []int64
	}{
		{"env-wrap-after-signature.xml", "a forged SetDTE (one DTE, Carátula edited) first; the signed original after the Signature",
			cat(head, forgedNewID, sig, set, tail), []string{dte.CodeSchemaInvalid, dte.CodeDuplicateID}, []int64{total, total}},
		{"env-wrap-in-object.xml", "a forged SetDTE in its place; the signed original inside ds:Object in the Signature",
			cat(head, forgedNewID, bytes.Replace(sig, []byte("</Signature>"), cat([]byte("<Object>"), set, []byte("</Object></Signature>")), 1), tail),
			[]string{dte.CodeSchemaInvalid, dte.CodeWrongElement, dte.CodeWrongRef}, []int64{total, total}},
		{"env-wrap-nested.xml", "the signed original SetDTE nested inside the forged one",
			cat(head, bytes.Replace(forgedNewID, []byte("</SetDTE>"), cat(set, []byte("</SetDTE>")), 1), sig, tail),
			[]string{dte.CodeSchemaInvalid, dte.CodeDuplicateID, dte.CodeWrongRef}, []int64{total, total}},
		{"env-wrap-same-id.xml", "a forged SetDTE with the same ID first; the signed original after the Signature",
			cat(head, forged, sig, set, tail), []string{dte.CodeSchemaInvalid, dte.CodeDuplicateID}, nil},
	}
	for _, w := range wraps {
		g.add(Case{File: w.file, Kind: dte.KindEnvioDTE, Attack: "signature wrapping: " + w.attack, Codes: w.codes, Totals: w.totals, Simulator: simSchema}, w.doc)
	}

	edited, err := replace(env, []byte("<NroResol>0</NroResol>"), []byte("<NroResol>1</NroResol>"))
	if err != nil {
		return err
	}
	g.add(Case{File: "env-caratula-edited.xml", Kind: dte.KindEnvioDTE, Attack: "NroResol in the Carátula changed after signing",
		Codes: []string{dte.CodeDigest}, Simulator: simSignature}, edited)

	resigned, err := g.resignSet(edited, k.Attacker)
	if err != nil {
		return err
	}
	resigned, err = replace(resigned, []byte(certB64(k.Attacker)), []byte(certB64(k.Signer)))
	if err != nil {
		return err
	}
	g.add(Case{File: "env-resigned-other-key.xml", Kind: dte.KindEnvioDTE, Attack: "Carátula changed and SetDTE signed again with the attacker's key; X509Certificate the sender's",
		Codes: []string{dte.CodeKeyMismatch}, Simulator: simSignature}, resigned)

	// A DTE wrapped inside the envelope, which its sender then signs.
	dteDoc := between(a, "<Documento ", "</Documento>")
	dteSig := between(a, "<Signature ", "</Signature>")
	wrappedDTE := bytes.Join([][]byte{a[:bytes.Index(a, []byte("<Documento "))], forge(dteDoc, strp("F1042T33X")), dteSig, dteDoc, []byte("</DTE>\n")}, nil)
	inner, err := g.envelopeRaw(wrappedDTE, b)
	if err != nil {
		return err
	}
	g.add(Case{File: "env-dte-wrapped.xml", Kind: dte.KindEnvioDTE, Attack: "inside a correctly signed envelope, a DTE with a forged Documento first and the signed one after its Signature",
		Codes: []string{dte.CodeSchemaInvalid, dte.CodeExtraCopy}, Totals: []int64{total, total}, Simulator: simSchema}, inner)

	dup, err := g.envelopeRaw(a, a)
	if err != nil {
		return err
	}
	g.add(Case{File: "env-duplicate-dte.xml", Kind: dte.KindEnvioDTE, Attack: "the same DTE twice in a signed envelope",
		Codes: []string{dte.CodeSchemaInvalid, dte.CodeDuplicateID}, Simulator: simSchema}, dup)

	decl := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n")
	body := env[bytes.Index(env, []byte("<EnvioDTE ")):]
	g.add(Case{File: "env-billion-laughs.xml", Kind: dte.KindEnvioDTE, Attack: "nested entities (billion laughs) before the envelope",
		Codes: []string{dte.CodeDTD}, Simulator: simSchema}, cat(decl, []byte(strings.Replace(laughs, "DTE [", "EnvioDTE [", 1)), bytes.Replace(body, []byte("<RznSocRecep>"), []byte("<RznSocRecep>&lol9;"), 1)))
	return nil
}

// envelopeRaw makes an envelope of DTEs as they are (the envelope builder
// refuses broken ones), its Carátula counting them, signed by the sender.
func (g *gen) envelopeRaw(dtes ...[]byte) ([]byte, error) {
	var x []byte
	x = append(x, `<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"+`<EnvioDTE xmlns="`+dte.NamespaceSiiDte+`" xmlns:xsi="`+dte.NamespaceXSI+
		`" xsi:schemaLocation="`+dte.NamespaceSiiDte+` EnvioDTE_v10.xsd" version="1.0"><SetDTE ID="SetDoc">`...)
	x = append(x, caratula(len(dtes))...)
	for _, d := range dtes {
		x = append(x, d[bytes.Index(d, []byte("<DTE ")):]...)
	}
	x = append(x, "</SetDTE></EnvioDTE>\n"...)
	return g.resignSet(x, g.k.Signer)
}

func caratula(n int) string {
	return `<Caratula version="1.0"><RutEmisor>` + Issuer.String() + `</RutEmisor><RutEnvia>` + SignerID.String() +
		`</RutEnvia><RutReceptor>60803000-K</RutReceptor><FchResol>` + resol.Date + `</FchResol><NroResol>0</NroResol><TmstFirmaEnv>` +
		dte.Timestamp(signedAt.Add(time.Minute)) + `</TmstFirmaEnv><SubTotDTE><TpoDTE>33</TpoDTE><NroDTE>` + strconv.Itoa(n) + `</NroDTE></SubTotDTE></Caratula>`
}

// resignSet signs an envelope's SetDTE again, in place, with cert.
func (g *gen) resignSet(x []byte, cert *certs.Certificate) ([]byte, error) {
	d, err := xmlsig.ParseDocument(x)
	if err != nil {
		return nil, err
	}
	root := d.Root()
	if s := root.SelectElement("Signature"); s != nil {
		root.RemoveChild(s)
	}
	xs, err := xmlsig.NewSigner(cert)
	if err != nil {
		return nil, err
	}
	if _, err := xs.SignElement(root.SelectElement("SetDTE")); err != nil {
		return nil, err
	}
	return write(root)
}

// certB64 is a certificate as KeyInfo carries it.
func certB64(c *certs.Certificate) string {
	return base64.StdEncoding.EncodeToString(c.Cert.Raw)
}

// modulusB64 is a key's modulus as RSAKeyValue carries it.
func modulusB64(c *certs.Certificate) string {
	return base64.StdEncoding.EncodeToString(c.Key.N.Bytes())
}

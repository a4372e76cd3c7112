// Package adversarial makes the project's adversarial corpus
// (testdata/adversarial): signed DTEs and EnvioDTEs attacked the ways a
// verifier is fooled — signature wrapping in several placements, duplicated
// IDs, an ID on the wrong element, swapped TEDs, documents signed again with
// another key, KeyValue and certificate that disagree, forged and edited
// CAFs, folios outside the CAF, impossible dates, DTDs, external entities,
// billion laughs, deep and huge documents — each with the verdict and the
// failure codes `dte verify` must give and what the SII simulator must
// answer. The corpus is made from committed test keys (keys/) with a fixed
// clock, so generating it again gives the same bytes (TestCorpusUpToDate).
package adversarial

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/latin1"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Case is one document of the corpus and what it must get.
type Case struct {
	File   string `json:"file"`   // under testdata/adversarial/cases; empty for a Generated one
	Kind   string `json:"kind"`   // DTE or EnvioDTE
	Attack string `json:"attack"` // what was done, in a sentence
	// Valid is the verdict of a strict `dte verify` (no downgrade).
	Valid bool `json:"valid"`
	// Codes must all be among the failure codes of the report.
	Codes []string `json:"codes,omitempty"`
	// Totals, when set, are the MntTotal the report must show per DTE: the
	// signed amounts, never a forged copy's.
	Totals []int64 `json:"totals,omitempty"`
	// ValidAllowingUnknownCAFKey is the verdict with
	// --allow-unknown-caf-key (only where it differs).
	ValidAllowingUnknownCAFKey bool `json:"valid_allowing_unknown_caf_key,omitempty"`
	// Simulator is what the SII simulator answers to the upload (a DTE is
	// uploaded in an envelope signed by its sender, see Wrap).
	Simulator Simulator `json:"simulator"`
	// Generated names a document too large to commit, made by the tests
	// (see Huge): "many-elements".
	Generated string `json:"generated,omitempty"`
	Bytes     int    `json:"bytes,omitempty"`
}

// Simulator is the SII's answer: the upload STATUS and, for an accepted
// upload, the verdict on its DTE.
type Simulator struct {
	Status   int    `json:"status"`             // DTEUpload STATUS: 0, 7 (schema), 8 (signature)
	Document string `json:"document,omitempty"` // with STATUS 0: ACE or RCH
}

// Manifest lists the cases.
type Manifest struct {
	Note  string `json:"note"`
	Cases []Case `json:"cases"`
}

// ReadManifest reads a committed manifest.json; a manifest of fewer than 20
// cases is an error (a test fed by it would prove nothing).
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	if len(m.Cases) < 20 {
		return m, fmt.Errorf("%s lists %d cases", path, len(m.Cases))
	}
	return m, nil
}

// Corpus is a generated corpus: the manifest and the files by name.
type Corpus struct {
	Manifest Manifest
	Files    map[string][]byte
}

// ManifestJSON is the manifest as written to manifest.json.
func (c *Corpus) ManifestJSON() ([]byte, error) {
	b, err := json.MarshalIndent(c.Manifest, "", "  ")
	return append(b, '\n'), err
}

// The clock of the corpus: issued on FchEmis, signed an hour later.
const (
	issueDate = "2026-11-27"
	folio     = 1042
)

var (
	signedAt = time.Date(2026, 11, 27, 10, 0, 0, 0, dte.Chile)
	resol    = request.Resolution{Number: 0, Date: "2024-08-22"}
)

// requestJSON is the factura the corpus is made of.
const requestJSON = `{
  "document": {"type": 33, "folio": %d, "issue_date": %q, "payment_form": 1},
  "issuer": {"rut": "76086428-5", "name": "Comercial Ñandú y Compañía Limitada",
    "activity": "Venta al por menor de artículos de librería", "acteco": [476101],
    "address": "Av. Providencia 1234", "commune": "Providencia", "city": "Santiago",
    "sii_resolution": {"number": 0, "date": "2024-08-22"}},
  "receiver": {"rut": "77654321-7", "name": "Importadora Peñalolén SpA", "activity": "Importación",
    "address": "Camino Los Almendros 890", "commune": "Peñalolén", "city": "Santiago"},
  "lines": [
    {"name": "Diseño de logotipo", "quantity": 1, "unit_price": 150000, "amount": 150000},
    {"name": "Despacho (exento)", "quantity": 1, "unit_price": 5000, "exempt": true, "amount": 5000}
  ],
  "totals": {"net": 150000, "exempt": 5000, "vat_rate": 19, "vat": 28500, "total": 183500},
  "odoo": {"database": "adversarial", "move_id": 1}
}`

// The signed total, and the forger's.
const (
	total       = 183500
	forgedTotal = 1835
)

type gen struct {
	k      *Keys
	v      *request.Validator
	cafs   map[string]*caf.CAF
	corpus *Corpus
}

// Generate makes the corpus from the keys.
func Generate(k *Keys) (*Corpus, error) {
	v, err := request.NewValidator()
	if err != nil {
		return nil, err
	}
	g := &gen{k: k, v: v, cafs: map[string]*caf.CAF{}, corpus: &Corpus{Files: map[string][]byte{}}}
	g.corpus.Manifest.Note = "Generated by tools/adversarial (go test ./tools/adversarial -run TestCorpusUpToDate -update). " +
		"Verify with the test SII key: dte verify --sii-keys testdata/adversarial/keys/sii-keys FILE."
	for name, b := range map[string][]byte{"legit": k.CAF, "unknown": k.CAFUnknownIDK, "known": k.CAFKnownIDK} {
		if g.cafs[name], err = caf.Parse(b); err != nil {
			return nil, fmt.Errorf("CAF %s: %w", name, err)
		}
	}
	if err := g.dteCases(); err != nil {
		return nil, err
	}
	if err := g.envelopeCases(); err != nil {
		return nil, err
	}
	return g.corpus, nil
}

func (g *gen) add(c Case, doc []byte) {
	if c.File != "" {
		g.corpus.Files[c.File] = doc
	}
	g.corpus.Manifest.Cases = append(g.corpus.Manifest.Cases, c)
}

// sign makes a signed DTE of the corpus factura, stamped with the CAF
// named ("legit", "unknown", "known") by cert at the given time.
func (g *gen) sign(cert *certs.Certificate, cafName string, f int64, issued string, at time.Time) ([]byte, error) {
	req, err := g.v.Parse(fmt.Appendf(nil, requestJSON, f, issued))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	c := g.cafs[cafName]
	// The signer checks FRMA first; the legit CAF verifies with the test
	// SII key. Forged CAFs are put in by restamp.
	s, err := dte.NewSigner(cert, dte.WithSIIKeys(g.k.SIIKeys()), dte.WithClock(dte.ClockFunc(func() time.Time { return at })))
	if err != nil {
		return nil, err
	}
	signed, err := s.Sign(context.Background(), req, []*caf.CAF{c})
	if err != nil {
		return nil, err
	}
	return signed.XML, nil
}

// envelope wraps signed DTEs in an EnvioDTE signed by the issuer's signer.
func (g *gen) envelope(dtes ...[]byte) ([]byte, error) {
	s, err := dte.NewSigner(g.k.Signer, dte.WithClock(dte.ClockFunc(func() time.Time { return signedAt.Add(time.Minute) })))
	if err != nil {
		return nil, err
	}
	env, err := s.Envelope(context.Background(), dte.Header{Resolution: resol, SetID: "SetDoc"}, dtes...)
	if err != nil {
		return nil, err
	}
	return env.XML, nil
}

// between returns the first s[i:j] that starts with from and ends with to.
func between(s []byte, from, to string) []byte {
	i := bytes.Index(s, []byte(from))
	if i < 0 {
		return nil
	}
	j := bytes.Index(s[i:], []byte(to))
	if j < 0 {
		return nil
	}
	return s[i : i+j+len(to)]
}

// replace replaces old with new once; old must be there.
func replace(s []byte, old, new []byte) ([]byte, error) {
	if len(old) == 0 || !bytes.Contains(s, old) {
		return nil, fmt.Errorf("adversarial: %.60q not found", old)
	}
	return bytes.Replace(s, old, new, 1), nil
}

var totalRE = regexp.MustCompile(`<MntTotal>[0-9]+</MntTotal>`)

// forge is a copy of a Documento with the forger's total and, when id is
// not nil, another ID ("" for none).
func forge(doc []byte, id *string) []byte {
	out := totalRE.ReplaceAll(bytes.Clone(doc), fmt.Appendf(nil, "<MntTotal>%d</MntTotal>", forgedTotal))
	if id != nil {
		old := between(out, `<Documento ID="`, `">`)
		repl := "<Documento>"
		if *id != "" {
			repl = `<Documento ID="` + *id + `">`
		}
		out = bytes.Replace(out, old, []byte(repl), 1)
	}
	return out
}

// edit parses a standalone DTE, lets change edit it (its Documento), then
// stamps the TED again with stamp (a CAF with its private key; nil keeps
// the TED as it is) and signs the Documento again with cert (nil keeps the
// signature), the SII's way: standalone, only the SiiDte namespace.
func edit(x []byte, change func(root, doc *etree.Element) error, stamp *caf.CAF, cert *certs.Certificate) ([]byte, error) {
	d, err := xmlsig.ParseDocument(x)
	if err != nil {
		return nil, err
	}
	root := d.Root()
	doc := root.SelectElement("Documento")
	if doc == nil {
		return nil, fmt.Errorf("adversarial: no Documento")
	}
	if change != nil {
		if err := change(root, doc); err != nil {
			return nil, err
		}
	}
	if stamp != nil {
		dd := doc.FindElement("TED/DD")
		flat, err := caf.Flatten(dd)
		if err != nil {
			return nil, err
		}
		frmt, err := stamp.SignTED(flat)
		if err != nil {
			return nil, err
		}
		doc.FindElement("TED/FRMT").SetText(base64.StdEncoding.EncodeToString(frmt))
	}
	if cert != nil {
		for _, c := range root.ChildElements() {
			if c.Tag == "Signature" {
				root.RemoveChild(c)
			}
		}
		xs, err := xmlsig.NewSigner(cert)
		if err != nil {
			return nil, err
		}
		if _, err := xs.SignElement(doc); err != nil {
			return nil, err
		}
	}
	return write(root)
}

// setText sets the text of the element at path under el.
func setText(el *etree.Element, path, text string) error {
	e := el.FindElement(path)
	if e == nil {
		return fmt.Errorf("adversarial: no %s", path)
	}
	e.SetText(text)
	return nil
}

// write serializes a document's root as the project writes documents:
// ISO-8859-1 with its declaration.
func write(root *etree.Element) ([]byte, error) {
	b, err := latin1.EncodeBytes(xmlsig.Serialize(root))
	if err != nil {
		return nil, err
	}
	return append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"), append(b, '\n')...), nil
}

// Problems compares what a verification said with what the case must get:
// the verdict, the codes (every one of Codes among codes), the totals
// reported (the signed ones) and, with --allow-unknown-caf-key, that the
// downgrade is named. It returns nothing when all is as it must be.
func (c Case) Problems(valid bool, codes []string, totals []int64, downgrades []string, allowUnknown bool) []string {
	var out []string
	want := c.Valid || allowUnknown && c.ValidAllowingUnknownCAFKey
	if valid != want {
		out = append(out, fmt.Sprintf("valid=%v, want %v (codes %v)", valid, want, codes))
	}
	if allowUnknown && len(downgrades) == 0 {
		out = append(out, "the downgrade is not named in the report")
	}
	if allowUnknown && c.ValidAllowingUnknownCAFKey {
		return out
	}
	for _, code := range c.Codes {
		if !slices.Contains(codes, code) {
			out = append(out, fmt.Sprintf("no %s among %v", code, codes))
		}
	}
	if c.Totals != nil && !slices.Equal(totals, c.Totals) {
		out = append(out, fmt.Sprintf("reported totals %v, want the signed %v", totals, c.Totals))
	}
	return out
}

// ReportProblems is Problems for a report.
func (c Case) ReportProblems(r *dte.Report, allowUnknown bool) []string {
	var totals []int64
	for _, d := range r.Documents {
		totals = append(totals, d.Document.Total)
	}
	return c.Problems(r.Valid(), r.Codes(), totals, r.Downgrades, allowUnknown)
}

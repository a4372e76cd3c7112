package archive

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/rut"
)

// Key prefixes of the archive layout (docs/design.md, "Archive").
const (
	PrefixDTE   = "dte/"
	PrefixEnvio = "envio/"
	PrefixState = "state/"
	PrefixCAF   = "caf/"
	// PrefixPDF and PrefixReceiverEnvelope hold what the customer receives
	// once the SII accepted a document (docs/design.md, "What the customer
	// receives").
	PrefixPDF              = "pdf/"
	PrefixReceiverEnvelope = "envio-receptor/"
)

// IssuerPrefixes are the prefixes above, each followed by an issuer's RUT:
// everything the pipeline archives for an issuer (the local stack clears
// them between runs).
var IssuerPrefixes = []string{PrefixDTE, PrefixEnvio, PrefixState, PrefixCAF, PrefixPDF, PrefixReceiverEnvelope}

// maxDocType bounds tipoDTE: the SII's codes have at most three digits.
const maxDocType = 999

// maxEnvioIDLen bounds an EnvioDTE ID (the SetDTE ID attribute).
const maxEnvioIDLen = 64

// DTEObjectKey is where the signed DTE of k lives: dte/{rut}/{type}/{folio}.xml.
func DTEObjectKey(k dtekey.Key) (string, error) {
	if err := checkDTEKey(k); err != nil {
		return "", err
	}
	return PrefixDTE + docPath(k) + ".xml", nil
}

// PDFObjectKey is where the printed DTE of k lives: pdf/{rut}/{type}/{folio}.pdf.
func PDFObjectKey(k dtekey.Key) (string, error) {
	if err := checkDTEKey(k); err != nil {
		return "", err
	}
	return PrefixPDF + docPath(k) + ".pdf", nil
}

// ReceiverEnvelopeObjectKey is where the EnvioDTE addressed to the receiver
// of k lives: envio-receptor/{rut}/{type}/{folio}.xml.
func ReceiverEnvelopeObjectKey(k dtekey.Key) (string, error) {
	if err := checkDTEKey(k); err != nil {
		return "", err
	}
	return PrefixReceiverEnvelope + docPath(k) + ".xml", nil
}

// StateObjectKey is where the state of k lives: state/{rut}/{type}/{folio}.json.
func StateObjectKey(k dtekey.Key) (string, error) {
	if err := checkDTEKey(k); err != nil {
		return "", err
	}
	return PrefixState + docPath(k) + ".json", nil
}

// EnvioObjectKey is where a signed EnvioDTE lives:
// envio/{rut}/{yyyy}/{mm}/{envioID}.xml. The year and month are those of at
// in its own location (pass the signing time, in Chilean time if you want
// the folders to follow the SII's calendar). envioID must be 1-64 ASCII
// letters, digits, '-' or '_'.
func EnvioObjectKey(issuer rut.RUT, at time.Time, envioID string) (string, error) {
	if err := checkRUT(issuer); err != nil {
		return "", err
	}
	if err := checkEnvioID(envioID); err != nil {
		return "", err
	}
	if at.IsZero() {
		return "", invalidKey("envelope time is zero")
	}
	return fmt.Sprintf("%s%s/%04d/%02d/%s.xml", PrefixEnvio, issuer, at.Year(), int(at.Month()), envioID), nil
}

// DocumentEnvioID is the SetDTE ID, and the object name, of the EnvioDTE
// that carries document k alone to the SII. It is fixed per document, so
// that the envelope's create-only write is also the mark that its upload
// began: a second delivery cannot make a second envelope, it finds the
// first (submit).
func DocumentEnvioID(k dtekey.Key) (string, error) {
	if err := checkDTEKey(k); err != nil {
		return "", err
	}
	return fmt.Sprintf("EnvioDTE-%d-%d-%d", k.Issuer.Number, k.Type, k.Folio), nil
}

// CAFObjectKey is where a CAF file lives: caf/{rut}/{type}/{desde}-{hasta}.xml.
func CAFObjectKey(issuer rut.RUT, docType int, from, to int64) (string, error) {
	if err := checkRUT(issuer); err != nil {
		return "", err
	}
	if err := checkType(docType); err != nil {
		return "", err
	}
	if from <= 0 || to < from {
		return "", invalidKey(fmt.Sprintf("CAF range %d-%d: want 0 < desde <= hasta", from, to))
	}
	return fmt.Sprintf("%s%s/%d/%d-%d.xml", PrefixCAF, issuer, docType, from, to), nil
}

// CAFPrefix is the listing prefix of the CAFs of one issuer and type
// (caf/{rut}/{type}/), or of one issuer when docType is 0 (caf/{rut}/), or
// of every issuer when the RUT is also zero (caf/).
func CAFPrefix(issuer rut.RUT, docType int) (string, error) {
	if issuer.IsZero() {
		if docType != 0 {
			return "", invalidKey("CAF prefix: a type needs an issuer")
		}
		return PrefixCAF, nil
	}
	if err := checkRUT(issuer); err != nil {
		return "", err
	}
	if docType == 0 {
		return PrefixCAF + issuer.String() + "/", nil
	}
	if err := checkType(docType); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%s/%d/", PrefixCAF, issuer, docType), nil
}

// CAFRef is what a CAF object key says about the file.
type CAFRef struct {
	Issuer rut.RUT
	Type   int
	From   int64 // desde
	To     int64 // hasta
}

// ParseCAFObjectKey reads a key made by CAFObjectKey back into its parts.
func ParseCAFObjectKey(key string) (CAFRef, error) {
	rest, ok := strings.CutPrefix(key, PrefixCAF)
	if !ok {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q is not under %s", key, PrefixCAF))
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q: want caf/{rut}/{type}/{desde}-{hasta}.xml", key))
	}
	r, err := rut.Parse(parts[0])
	if err != nil {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q: issuer: %v", key, err))
	}
	t, err := strconv.Atoi(parts[1])
	if err != nil {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q: type %q is not a number", key, parts[1]))
	}
	name, ok := strings.CutSuffix(parts[2], ".xml")
	if !ok {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q: not an .xml file", key))
	}
	fs, ts, ok := strings.Cut(name, "-")
	from, err1 := strconv.ParseInt(fs, 10, 64)
	to, err2 := strconv.ParseInt(ts, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q: range %q: want {desde}-{hasta}", key, name))
	}
	// Round-trip so that only canonical keys (no leading zeros, no '+') pass.
	if canon, err := CAFObjectKey(r, t, from, to); err != nil || canon != key {
		return CAFRef{}, invalidKey(fmt.Sprintf("%q is not a canonical CAF key", key))
	}
	return CAFRef{Issuer: r, Type: t, From: from, To: to}, nil
}

func docPath(k dtekey.Key) string {
	return k.Issuer.String() + "/" + strconv.Itoa(k.Type) + "/" + strconv.FormatInt(k.Folio, 10)
}

func checkDTEKey(k dtekey.Key) error {
	if err := checkRUT(k.Issuer); err != nil {
		return err
	}
	if err := checkType(k.Type); err != nil {
		return err
	}
	if k.Folio <= 0 {
		return invalidKey(fmt.Sprintf("folio %d: want > 0", k.Folio))
	}
	return nil
}

func checkRUT(r rut.RUT) error {
	// A rut.RUT built as a literal skips Parse: check it again here, since
	// the RUT becomes a path segment.
	if r.Number <= 0 || r.Number > 99_999_999 || r.DV != rut.CheckDigit(r.Number) {
		return invalidKey(fmt.Sprintf("issuer RUT %d-%c is not valid", r.Number, r.DV))
	}
	return nil
}

func checkType(t int) error {
	if t <= 0 || t > maxDocType {
		return invalidKey(fmt.Sprintf("document type %d: want 1..%d", t, maxDocType))
	}
	return nil
}

func checkEnvioID(id string) error {
	if id == "" || len(id) > maxEnvioIDLen {
		return invalidKey(fmt.Sprintf("envelope ID %q: want 1..%d characters", id, maxEnvioIDLen))
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return invalidKey(fmt.Sprintf("envelope ID %q: only letters, digits, '-' and '_'", id))
		}
	}
	return nil
}

func invalidKey(msg string) error {
	return errs.Permanent(fmt.Errorf("%w: %s", ErrInvalidKey, msg))
}

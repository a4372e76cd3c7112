package caf

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "time/tzdata" // the SII works in Chile time; static images have no zoneinfo

	"github.com/beevik/etree"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// CAF is one folio authorisation. It is immutable after Parse and safe
// for concurrent use.
type CAF struct {
	Issuer     rut.RUT        // DA/RE
	Name       string         // DA/RS, the issuer's name as the SII wrote it
	Type       int            // DA/TD, document type
	From, To   int64          // DA/RNG/D and H: the authorised folios
	Authorized string         // DA/FA, YYYY-MM-DD
	IDK        int64          // DA/IDK: which SII key signed it (100 certification, 300 production)
	PublicKey  *rsa.PublicKey // DA/RSAPK: verifies the TEDs
	FRMA       []byte         // the SII's signature over DA

	signer    *signer              // from RSASK; nil for a CAF read from a TED
	verified  atomic.Pointer[Keys] // the key set FRMA last verified with (a memo)
	authDate  time.Time            // Authorized, midnight in Chile
	daFlat    []byte               // flattened DA: what FRMA signs
	flat      []byte               // flattened CAF element (ISO-8859-1), part of a DD's FRMT input
	canonical []byte               // compact canonical CAF element (UTF-8), as written in a TED
}

// Errors about CAFs. Check/Select wrap them with the detail; they are the
// caller's "permanent" failures (retrying cannot help).
var (
	ErrMalformed     = errors.New("malformed CAF")
	ErrNoPrivateKey  = errors.New("the CAF has no private key (RSASK): only a CAF file from the SII can stamp documents")
	ErrKeyMismatch   = errors.New("the CAF's private key (RSASK) does not match its public key (RSAPK)")
	ErrFRMA          = errors.New("the SII's signature on the CAF (FRMA) does not verify")
	ErrUnknownIDK    = errors.New("no SII key for the CAF's IDK")
	ErrWrongType     = errors.New("the CAF is for another document type")
	ErrWrongIssuer   = errors.New("the CAF is for another issuer RUT")
	ErrFolioOutside  = errors.New("the folio is outside the CAF's range")
	ErrNoCAF         = errors.New("the folio is outside every CAF")
	ErrExpired       = errors.New("the CAF has expired")
	ErrTEDSignature  = errors.New("the TED signature (FRMT) does not verify with the CAF key")
	errNotAutorizacn = errors.New("not a CAF file: the root element must be AUTORIZACION or CAF")
)

// Chile is America/Santiago, the SII's clock.
var chile = mustChile()

func mustChile() *time.Location {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		panic("caf: time/tzdata lacks America/Santiago: " + err.Error())
	}
	return loc
}

// Parse reads a CAF file as the SII issues it: <AUTORIZACION> with the CAF
// element, the private key (RSASK) and the public key (RSAPUBK), in
// ISO-8859-1 bytes without an encoding declaration. A bare <CAF> element
// is accepted too (it then cannot stamp documents).
func Parse(data []byte) (*CAF, error) {
	doc, err := xmlsig.ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	root := doc.Root()
	switch root.Tag {
	case "CAF":
		return FromElement(root)
	case "AUTORIZACION":
	default:
		return nil, fmt.Errorf("%w: <%s>", errNotAutorizacn, root.Tag)
	}
	cafEl := root.SelectElement("CAF")
	if cafEl == nil {
		return nil, fmt.Errorf("%w: AUTORIZACION has no CAF element", ErrMalformed)
	}
	c, err := FromElement(cafEl)
	if err != nil {
		return nil, err
	}
	sk := root.SelectElement("RSASK")
	if sk == nil {
		return c, nil
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(sk.Text())))
	if block == nil {
		return nil, fmt.Errorf("%w: RSASK is not a PEM private key", ErrMalformed)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		k8, err8 := x509.ParsePKCS8PrivateKey(block.Bytes)
		rk, ok := k8.(*rsa.PrivateKey)
		if err8 != nil || !ok {
			return nil, fmt.Errorf("%w: RSASK: %v", ErrMalformed, err)
		}
		key = rk
	}
	if key.N.Cmp(c.PublicKey.N) != 0 || key.E != c.PublicKey.E {
		return nil, ErrKeyMismatch
	}
	if c.signer, err = newSigner(key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c, nil
}

// FromElement reads a CAF element (DA and FRMA), as found in a CAF file or
// copied into a TED. The result has no private key.
func FromElement(el *etree.Element) (*CAF, error) {
	da := el.SelectElement("DA")
	if da == nil {
		return nil, fmt.Errorf("%w: no DA element", ErrMalformed)
	}
	text := func(parent *etree.Element, path string) (string, error) {
		e := parent.FindElement(path)
		if e == nil {
			return "", fmt.Errorf("%w: DA has no %s", ErrMalformed, path)
		}
		return strings.TrimSpace(e.Text()), nil
	}
	c := &CAF{}
	var err error
	var s string
	if s, err = text(da, "RE"); err != nil {
		return nil, err
	}
	if c.Issuer, err = rut.Parse(s); err != nil {
		return nil, fmt.Errorf("%w: DA/RE: %v", ErrMalformed, err)
	}
	if c.Name, err = text(da, "RS"); err != nil {
		return nil, err
	}
	if s, err = text(da, "TD"); err != nil {
		return nil, err
	}
	if c.Type, err = strconv.Atoi(s); err != nil || c.Type <= 0 {
		return nil, fmt.Errorf("%w: DA/TD %q is not a document type", ErrMalformed, s)
	}
	for _, f := range []struct {
		path string
		dst  *int64
	}{{"RNG/D", &c.From}, {"RNG/H", &c.To}, {"IDK", &c.IDK}} {
		if s, err = text(da, f.path); err != nil {
			return nil, err
		}
		if *f.dst, err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, fmt.Errorf("%w: DA/%s %q is not a number", ErrMalformed, f.path, s)
		}
	}
	if c.From <= 0 || c.To < c.From {
		return nil, fmt.Errorf("%w: DA/RNG %d-%d is not a folio range", ErrMalformed, c.From, c.To)
	}
	if c.Authorized, err = text(da, "FA"); err != nil {
		return nil, err
	}
	if c.authDate, err = time.ParseInLocation(time.DateOnly, c.Authorized, chile); err != nil {
		return nil, fmt.Errorf("%w: DA/FA %q is not a date", ErrMalformed, c.Authorized)
	}
	if da.SelectElement("RSAPK") == nil {
		if da.SelectElement("DSAPK") != nil {
			return nil, fmt.Errorf("%w: DSA keys (DSAPK) are not supported", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: DA has no RSAPK", ErrMalformed)
	}
	var m, e []byte
	if s, err = text(da, "RSAPK/M"); err == nil {
		m, err = decode64(s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: DA/RSAPK/M: %v", ErrMalformed, err)
	}
	if s, err = text(da, "RSAPK/E"); err == nil {
		e, err = decode64(s)
	}
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("%w: DA/RSAPK/E is not a public exponent", ErrMalformed)
	}
	c.PublicKey = &rsa.PublicKey{N: new(big.Int).SetBytes(m), E: int(new(big.Int).SetBytes(e).Int64())}
	if c.PublicKey.N.BitLen() < 256 || c.PublicKey.E < 3 {
		return nil, fmt.Errorf("%w: DA/RSAPK is not a usable RSA key", ErrMalformed)
	}
	frma := el.SelectElement("FRMA")
	if frma == nil {
		return nil, fmt.Errorf("%w: no FRMA element", ErrMalformed)
	}
	if c.FRMA, err = decode64(frma.Text()); err != nil || len(c.FRMA) == 0 {
		return nil, fmt.Errorf("%w: FRMA is not base64", ErrMalformed)
	}
	if c.daFlat, err = Flatten(da); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if c.flat, err = Flatten(el); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	c.canonical = appendCompact(nil, el)
	return c, nil
}

func decode64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}

// String describes the CAF for messages: "CAF 76235291-5 type 33 folios 1-20 (FA 2025-04-11, IDK 100)".
func (c *CAF) String() string {
	return fmt.Sprintf("CAF %s type %d folios %d-%d (FA %s, IDK %d)", c.Issuer, c.Type, c.From, c.To, c.Authorized, c.IDK)
}

// CanStamp reports whether the CAF holds its private key (RSASK).
func (c *CAF) CanStamp() bool { return c.signer != nil }

// Contains reports whether folio is in the CAF's range.
func (c *CAF) Contains(folio int64) bool { return folio >= c.From && folio <= c.To }

// AppendXML appends the CAF element compactly, as a DTE's TED carries it
// (canonical form, UTF-8, no namespace declaration: it takes the
// document's).
func (c *CAF) AppendXML(dst []byte) []byte { return append(dst, c.canonical...) }

// AppendFlat appends the CAF element flattened in ISO-8859-1, as it enters
// the bytes a TED's FRMT signs.
func (c *CAF) AppendFlat(dst []byte) []byte { return append(dst, c.flat...) }

// VerifySII checks FRMA, the SII's signature over DA, with the SII key for
// the CAF's IDK.
func (c *CAF) VerifySII(keys *Keys) error {
	if keys != nil && c.verified.Load() == keys {
		return nil // a Keys is immutable: the answer cannot have changed
	}
	pub, ok := keys.Get(c.IDK)
	if !ok {
		return fmt.Errorf("%s: %w %d", c, ErrUnknownIDK, c.IDK)
	}
	if err := verifySHA1(pub, c.daFlat, c.FRMA); err != nil {
		return fmt.Errorf("%s: %w (IDK %d)", c, ErrFRMA, c.IDK)
	}
	c.verified.Store(keys)
	return nil
}

// SignTED signs a flattened DD (ISO-8859-1) with the CAF's private key:
// the TED's FRMT, SHA1withRSA.
func (c *CAF) SignTED(dd []byte) ([]byte, error) {
	if c.signer == nil {
		return nil, fmt.Errorf("%s: %w", c, ErrNoPrivateKey)
	}
	return c.signer.signSHA1(dd)
}

// VerifyTED checks a TED's FRMT over its flattened DD with the CAF key.
func (c *CAF) VerifyTED(dd, frmt []byte) error {
	if err := verifySHA1(c.PublicKey, dd, frmt); err != nil {
		return fmt.Errorf("%s: %w", c, ErrTEDSignature)
	}
	return nil
}

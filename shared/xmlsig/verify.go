package xmlsig

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/beevik/etree"
)

// Code classifies why a signature does not verify. The values are stable:
// programs (the SII simulator) branch on them.
type Code string

// Codes of *Error.
const (
	CodeMalformed     Code = "signature-malformed"   // missing, repeated or unreadable parts
	CodeUnsupported   Code = "unsupported-algorithm" // outside what the SII accepts
	CodeReference     Code = "reference-not-found"   // the URI names no element
	CodeDuplicateID   Code = "duplicate-id"          // the URI names several elements (signature wrapping)
	CodeDigest        Code = "digest-mismatch"       // the signed content changed
	CodeSignature     Code = "signature-invalid"     // SignatureValue does not verify
	CodeKeyMismatch   Code = "key-mismatch"          // KeyValue is not the certificate's key
	CodeNoCertificate Code = "no-certificate"        // KeyInfo has no X509Certificate
)

// Error is a signature that does not verify, with its Code.
type Error struct {
	Code Code
	Msg  string
}

// Error is the code followed by the detail.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Msg }

// Is matches the sentinel of the same Code (errors.Is(err, xmlsig.ErrDigest)).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Code == e.Code
}

// Sentinels for errors.Is, one per Code.
var (
	ErrMalformed     = &Error{Code: CodeMalformed}
	ErrUnsupported   = &Error{Code: CodeUnsupported}
	ErrReference     = &Error{Code: CodeReference}
	ErrDuplicateID   = &Error{Code: CodeDuplicateID}
	ErrDigest        = &Error{Code: CodeDigest}
	ErrSignature     = &Error{Code: CodeSignature}
	ErrKeyMismatch   = &Error{Code: CodeKeyMismatch}
	ErrNoCertificate = &Error{Code: CodeNoCertificate}
)

func fail(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// VerifyOptions choose the namespace context of a verification.
type VerifyOptions struct {
	// Boundary, when set, makes the verification ignore every namespace
	// declared above it and assume Base instead, both for the referenced
	// element and for SignedInfo. The referenced ID is then looked up
	// inside Boundary only. This is how the SII verifies a DTE inside an
	// EnvioDTE: Boundary = the DTE, Base = the SiiDte default namespace.
	Boundary *etree.Element
	Base     []NS
}

// Result describes a signature that verified. When Verify fails after
// finding the referenced element, it returns a Result too, with
// Referenced (and Certificate when KeyInfo was read) set and Digest nil.
type Result struct {
	URI         string            // the Reference URI: "#F60T33", "" for the whole document
	Referenced  *etree.Element    // the signed element
	Certificate *x509.Certificate // from KeyInfo/X509Data
	Digest      []byte            // the verified digest
}

// Verify checks one Signature element: the digest of what its Reference
// points to and the SignatureValue over SignedInfo, with the key of the
// certificate in KeyInfo (which must agree with KeyValue when both are
// present). It does not decide whether the certificate is trusted or
// valid at some time; the caller does, with Result.Certificate.
func Verify(sig *etree.Element, opts VerifyOptions) (*Result, error) {
	if sig == nil || sig.Tag != "Signature" || sig.NamespaceURI() != Namespace {
		return nil, fail(CodeMalformed, "not a Signature element in %s", Namespace)
	}
	si, err := onlyChild(sig, "SignedInfo", true)
	if err != nil {
		return nil, err
	}
	sv, err := onlyChild(sig, "SignatureValue", true)
	if err != nil {
		return nil, err
	}
	ki, err := onlyChild(sig, "KeyInfo", false)
	if err != nil {
		return nil, err
	}

	cm, err := onlyChild(si, "CanonicalizationMethod", true)
	if err != nil {
		return nil, err
	}
	siComments := false
	switch a := cm.SelectAttrValue("Algorithm", ""); a {
	case AlgC14N10:
	case AlgC14N10C:
		siComments = true
	default:
		return nil, fail(CodeUnsupported, "CanonicalizationMethod %q: the SII uses %s", a, AlgC14N10)
	}
	sm, err := onlyChild(si, "SignatureMethod", true)
	if err != nil {
		return nil, err
	}
	var sigHash crypto.Hash
	switch a := sm.SelectAttrValue("Algorithm", ""); a {
	case AlgRSASHA1:
		sigHash = crypto.SHA1
	case AlgRSASHA256:
		sigHash = crypto.SHA256
	default:
		return nil, fail(CodeUnsupported, "SignatureMethod %q: the SII uses %s", a, AlgRSASHA1)
	}
	ref, err := onlyChild(si, "Reference", true)
	if err != nil {
		return nil, err
	}

	// The referenced element and its transforms.
	uri := ref.SelectAttrValue("URI", "")
	target, err := dereference(sig, uri, opts)
	if err != nil {
		return nil, err
	}
	// From here on a failure still tells what was referenced (and, once
	// read, the certificate): callers report on the element that was
	// signed, never on another one.
	res := &Result{URI: uri, Referenced: target}
	c := c14nOptions{bounded: opts.Boundary != nil, boundary: opts.Boundary, base: opts.Base}
	if tr, err := onlyChild(ref, "Transforms", false); err != nil {
		return res, err
	} else if tr != nil {
		for _, t := range childrenNS(tr, "Transform") {
			switch a := t.SelectAttrValue("Algorithm", ""); a {
			case AlgEnveloped:
				c.exclude = sig
			case AlgC14N10:
				c.comments = false
			case AlgC14N10C:
				// Comments survive only in a reference that is not a
				// bare "#id" or "" (XMLDSig §4.3.3.3): never here.
				c.comments = false
			default:
				return res, fail(CodeUnsupported, "Transform %q: the SII uses %s", a, AlgC14N10)
			}
		}
	}
	dm, err := onlyChild(ref, "DigestMethod", true)
	if err != nil {
		return res, err
	}
	var dh hash.Hash
	switch a := dm.SelectAttrValue("Algorithm", ""); a {
	case AlgSHA1:
		dh = sha1.New()
	case AlgSHA256:
		dh = sha256.New()
	default:
		return res, fail(CodeUnsupported, "DigestMethod %q: the SII uses %s", a, AlgSHA1)
	}
	dvEl, err := onlyChild(ref, "DigestValue", true)
	if err != nil {
		return res, err
	}
	declared, err := decode64(dvEl.Text())
	if err != nil {
		return res, fail(CodeMalformed, "DigestValue is not base64: %v", err)
	}
	dh.Write(appendCanonical(nil, target, c))
	digest := dh.Sum(nil)
	if !bytes.Equal(digest, declared) {
		return res, fail(CodeDigest, "the content of %s changed after signing (digest %s, signed %s)",
			describeRef(uri, target), base64.StdEncoding.EncodeToString(digest), base64.StdEncoding.EncodeToString(declared))
	}

	// The key: the certificate's (the SII requires it). A KeyValue, which
	// verifiers such as xmlsec1 use first, must be the same key: when it is
	// not, that is the failure, whichever of the two the value verifies with.
	kv, cert, err := keyOf(ki)
	if err != nil {
		return res, err
	}
	res.Certificate = cert
	pub, _ := cert.PublicKey.(*rsa.PublicKey)
	if pub == nil {
		return res, fail(CodeUnsupported, "the certificate's key is %T; the SII's profile is RSA", cert.PublicKey)
	}
	value, err := decode64(sv.Text())
	if err != nil {
		return res, fail(CodeMalformed, "SignatureValue is not base64: %v", err)
	}
	canon := appendCanonical(nil, si, c14nOptions{bounded: c.bounded, boundary: c.boundary, base: c.base, comments: siComments})
	h := sigHash.New()
	h.Write(canon)
	sum := h.Sum(nil)
	if kv != nil && !kv.Equal(pub) {
		with := "with neither key"
		switch {
		case rsa.VerifyPKCS1v15(kv, sigHash, sum, value) == nil:
			with = "with the KeyValue key only"
		case rsa.VerifyPKCS1v15(pub, sigHash, sum, value) == nil:
			with = "with the certificate's key only"
		}
		return res, fail(CodeKeyMismatch, "KeyValue is not the key of X509Certificate %q (SignatureValue verifies %s)", cert.Subject.CommonName, with)
	}
	if err := rsa.VerifyPKCS1v15(pub, sigHash, sum, value); err != nil {
		return res, fail(CodeSignature, "SignatureValue does not verify with the key of X509Certificate %q: %v", cert.Subject.CommonName, err)
	}
	res.Digest = digest
	return res, nil
}

func describeRef(uri string, el *etree.Element) string {
	if uri == "" {
		return "the document"
	}
	return fmt.Sprintf("<%s ID=%q>", el.Tag, uri[1:])
}

// dereference finds what a Reference URI points to: "" the document's
// root, "#id" the one element with that ID attribute.
func dereference(sig *etree.Element, uri string, opts VerifyOptions) (*etree.Element, error) {
	root := sig
	for root.Parent() != nil && root.Parent().Parent() != nil && root != opts.Boundary {
		root = root.Parent()
	}
	if opts.Boundary != nil {
		root = opts.Boundary
	}
	if uri == "" {
		return root, nil
	}
	if !strings.HasPrefix(uri, "#") || len(uri) == 1 {
		return nil, fail(CodeUnsupported, "Reference URI %q: only same-document references (#id) are used by the SII", uri)
	}
	id := uri[1:]
	var found []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		for _, a := range e.Attr {
			if a.Space == "" && a.Key == "ID" && a.Value == id {
				found = append(found, e)
			}
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	switch len(found) {
	case 0:
		return nil, fail(CodeReference, "no element has ID %q", id)
	case 1:
		return found[0], nil
	default:
		// Two elements with one ID is how signature wrapping attacks work.
		return nil, fail(CodeDuplicateID, "%d elements have ID %q", len(found), id)
	}
}

// keyOf reads KeyInfo: the certificate (required by the SII) and the
// KeyValue key, nil when absent.
func keyOf(ki *etree.Element) (*rsa.PublicKey, *x509.Certificate, error) {
	if ki == nil {
		return nil, nil, fail(CodeNoCertificate, "no KeyInfo")
	}
	var cert *x509.Certificate
	for _, xd := range childrenNS(ki, "X509Data") {
		for _, xc := range childrenNS(xd, "X509Certificate") {
			der, err := decode64(xc.Text())
			if err != nil {
				return nil, nil, fail(CodeMalformed, "X509Certificate is not base64: %v", err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, nil, fail(CodeMalformed, "X509Certificate: %v", err)
			}
			if cert != nil {
				return nil, nil, fail(CodeMalformed, "KeyInfo holds more than one certificate; the SII wants exactly one")
			}
			cert = c
		}
	}
	if cert == nil {
		return nil, nil, fail(CodeNoCertificate, "KeyInfo has no X509Data/X509Certificate (the SII requires the signer's certificate)")
	}
	var kv *rsa.PublicKey
	for _, v := range childrenNS(ki, "KeyValue") {
		for _, rk := range childrenNS(v, "RSAKeyValue") {
			m, err1 := onlyChild(rk, "Modulus", true)
			e, err2 := onlyChild(rk, "Exponent", true)
			if err1 != nil || err2 != nil {
				return nil, nil, fail(CodeMalformed, "RSAKeyValue needs one Modulus and one Exponent")
			}
			mb, err1 := decode64(m.Text())
			eb, err2 := decode64(e.Text())
			if err1 != nil || err2 != nil || len(mb) == 0 || len(eb) == 0 || len(eb) > 4 {
				return nil, nil, fail(CodeMalformed, "RSAKeyValue: Modulus and Exponent must be base64 integers")
			}
			if kv != nil {
				return nil, nil, fail(CodeMalformed, "KeyInfo holds more than one RSAKeyValue")
			}
			kv = &rsa.PublicKey{N: new(big.Int).SetBytes(mb), E: int(new(big.Int).SetBytes(eb).Int64())}
		}
	}
	return kv, cert, nil
}

// childrenNS lists the children of el named local in the XMLDSig namespace.
func childrenNS(el *etree.Element, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == Namespace {
			out = append(out, c)
		}
	}
	return out
}

// onlyChild returns the one child named local; more than one is malformed
// (encoding/xml-style "last one wins" readers can be fooled by repeats).
func onlyChild(el *etree.Element, local string, required bool) (*etree.Element, error) {
	cs := childrenNS(el, local)
	switch {
	case len(cs) > 1:
		return nil, fail(CodeMalformed, "%s has %d %s elements", el.Tag, len(cs), local)
	case len(cs) == 0 && required:
		return nil, fail(CodeMalformed, "%s has no %s", el.Tag, local)
	case len(cs) == 0:
		return nil, nil
	}
	return cs[0], nil
}

// decode64 decodes base64 with any whitespace (line breaks are allowed in
// base64Binary).
func decode64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

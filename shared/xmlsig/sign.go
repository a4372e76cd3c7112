package xmlsig

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// SignElement signs el by reference to its ID attribute ("#" + ID) and
// inserts the Signature right after el, as its next sibling: the SII's form
// for Documento (in DTE) and SetDTE (in EnvioDTE). el must already be in its
// final place, since the namespaces its ancestors declare are part of what
// is signed, and must not be changed afterwards.
func (s *Signer) SignElement(el *etree.Element) (*etree.Element, error) {
	id := el.SelectAttrValue("ID", "")
	if id == "" {
		return nil, fmt.Errorf("xmlsig: <%s> has no ID attribute to reference", el.Tag)
	}
	parent := el.Parent()
	if parent == nil {
		return nil, fmt.Errorf("xmlsig: <%s ID=%q> must be attached to its parent before signing", el.Tag, id)
	}
	digest := sha1.Sum(Canonicalize(el))
	sig, err := s.newSignature("#"+id, false, digest[:])
	if err != nil {
		return nil, err
	}
	parent.InsertChildAt(el.Index()+1, sig)
	if err := s.finish(sig); err != nil {
		parent.RemoveChild(sig)
		return nil, err
	}
	return sig, nil
}

// SignEnveloped signs the whole document root belongs to (Reference URI="",
// one enveloped-signature Transform) and appends the Signature as the last
// child of root: the form of the SII's getToken request
// (<getToken><item><Semilla>…</Semilla></item><Signature>…</getToken>).
func (s *Signer) SignEnveloped(root *etree.Element) (*etree.Element, error) {
	if root.Parent() != nil && root.Parent().Parent() != nil {
		return nil, errors.New("xmlsig: an enveloped signature covers the whole document: pass its root element")
	}
	digest := sha1.Sum(Canonicalize(root))
	sig, err := s.newSignature("", true, digest[:])
	if err != nil {
		return nil, err
	}
	root.AddChild(sig)
	if err := s.finish(sig); err != nil {
		root.RemoveChild(sig)
		return nil, err
	}
	return sig, nil
}

// SignEnvelopedXML parses a document, signs it like SignEnveloped and
// returns it serialized as UTF-8 with an XML declaration.
func (s *Signer) SignEnvelopedXML(doc []byte) ([]byte, error) {
	d, err := ParseDocument(doc)
	if err != nil {
		return nil, err
	}
	if _, err := s.SignEnveloped(d.Root()); err != nil {
		return nil, err
	}
	return append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), Serialize(d.Root())...), nil
}

// newSignature builds a Signature element with an empty SignatureValue.
func (s *Signer) newSignature(uri string, enveloped bool, digest []byte) (*etree.Element, error) {
	var b []byte
	b = append(b, `<Signature xmlns="`+Namespace+`">`...)
	b = AppendSignedInfo(b, nil, uri, enveloped, digest)
	b = append(b, "<SignatureValue></SignatureValue>"...)
	b = s.AppendKeyInfo(b)
	b = append(b, "</Signature>"...)
	d := etree.NewDocument()
	if err := d.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("xmlsig: build signature: %w", err)
	}
	sig := d.Root()
	d.RemoveChild(sig)
	return sig, nil
}

// finish signs the SignedInfo of sig canonicalized where sig now is, so
// that every namespace in scope there is accounted for.
func (s *Signer) finish(sig *etree.Element) error {
	si := sig.SelectElement("SignedInfo")
	raw, err := s.SignSignedInfo(Canonicalize(si))
	if err != nil {
		return err
	}
	sig.SelectElement("SignatureValue").SetText(base64.StdEncoding.EncodeToString(raw))
	return nil
}

// Serialize writes an element as XML (UTF-8, no declaration) without
// re-indenting it. Text and attribute values are escaped so that a parser
// reads back exactly the same characters (carriage returns included), which
// keeps signatures valid.
func Serialize(el *etree.Element) []byte {
	d := etree.NewDocument()
	d.WriteSettings = etree.WriteSettings{CanonicalEndTags: true, CanonicalText: true, CanonicalAttrVal: true}
	var sb strings.Builder
	el.WriteTo(&sb, &d.WriteSettings)
	return []byte(sb.String())
}

func sortNS(ns []NS) {
	slices.SortFunc(ns, func(a, b NS) int { return strings.Compare(a.Prefix, b.Prefix) })
}

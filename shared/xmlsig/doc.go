// Package xmlsig is the SII's XML signature profile: signatures of an
// element referenced by ID with the Signature as its next sibling
// (Documento in a DTE, SetDTE in an EnvioDTE), enveloped signatures for the
// getToken seed document, and their verification. Its canonicalizer (C14N
// 1.0) and signer are our own, for speed and for the SII's layout (README,
// "Design choices"); etree parses what it verifies. The tests hold it to
// independent implementations: goxmldsig (its canonicalizer, and verifying
// our signatures) and xmlsec1.
//
// The profile: RSA-SHA1, SHA-1 digest, inclusive C14N 1.0 (2001-03-15), one
// Transform, KeyInfo with KeyValue/RSAKeyValue then X509Data with the one
// signing certificate, the XMLDSig namespace as the default namespace of
// Signature (no "ds:" prefix).
//
// Namespace context matters: inclusive C14N copies every namespace in
// scope into the canonical form, so a signature made on a standalone DTE
// verifies inside an envelope only if the verifier takes the DTE out again.
// Verification therefore accepts an explicit context (a boundary element and
// the bindings assumed above it) that replaces what the ancestors declare.
package xmlsig

// The XML Signature namespace and the algorithm identifiers of the profile.
const (
	Namespace    = "http://www.w3.org/2000/09/xmldsig#"
	AlgC14N10    = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	AlgC14N10C   = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
	AlgEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	AlgRSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	AlgRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgSHA1      = "http://www.w3.org/2000/09/xmldsig#sha1"
	AlgSHA256    = "http://www.w3.org/2001/04/xmlenc#sha256"
)

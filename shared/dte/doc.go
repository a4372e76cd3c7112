// Package dte turns a DTE request into the XML the SII accepts and checks
// such XML: it builds DTE/Documento for types 33, 34, 52, 56 and 61, stamps
// it with a TED made with the folio's CAF, signs it standalone (only the
// SiiDte namespace in scope, docs/sii-protocol.md §6.3), wraps signed DTEs in a
// signed EnvioDTE, and inspects and verifies DTEs and envelopes the way
// the SII does (each DTE's signature with the DTE taken out of the
// envelope, the SetDTE signature in place, every TED against its CAF, every
// CAF against the SII's key). Verification reads only what is signed (the
// element a signature references is the one reported), refuses hostile
// input before parsing it (xmlsig.Limits), takes the SII's schema as an
// injected SchemaValidator (this package stays free of cgo) and fails
// closed: a check that could not be made is a failure, unless a named
// downgrade lets it through and the report says so.
//
// Documents are written once, directly in canonical form (Canonical XML
// 1.0: no self-closing tags, canonical escaping, sorted attributes), so
// their digests are computed over the bytes as written, without a generic
// canonicalization pass, and an envelope canonicalizes each embedded DTE
// by checking it is already canonical (scan.go) instead of copying
// subtrees. Output is ISO-8859-1 with its declaration and is never
// re-indented after signing.
package dte

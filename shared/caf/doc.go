// Package caf reads the SII's folio authorisations (CAF, Código de
// Autorización de Folios): the XML file the SII hands out per range of
// folios, which holds the range, the SII's signature over it (FRMA) and the
// RSA key that stamps each document's TED (FRMT).
//
// CAF files declare no encoding but are ISO-8859-1 (docs/sii-protocol.md §5.1);
// their keys are 512-bit RSA with exponent 3, which Go's crypto/rsa refuses
// since Go 1.24, so the PKCS#1 v1.5 arithmetic for them is done here with
// math/big (with blinding), and so is the check of the SII's own 512-bit
// keys (sii-caf-keys/100.cer, 300.cer, whose certificates Go's x509 cannot
// parse either).
package caf

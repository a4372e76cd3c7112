// Package dtetest makes the key material DTE tests need, so that no real
// private key is ever required: a test "SII" key and certificate that sign
// CAFs (standing in for the SII's IDK 100 key), CAF files for any issuer,
// type, folio range and date (512-bit RSA keys with exponent 3, the real
// layout, ISO-8859-1 bytes), a test certification authority and personal
// signing certificates carrying a RUT in subjectAltName, and files on disk
// in the formats the tools read (for `dte local`).
//
// Generating keys takes a while (the RSA-2048 keys most of all): tests
// share one set through Shared.
package dtetest

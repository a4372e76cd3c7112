// Package localpki makes throwaway key material, so that neither the local
// stack (`dte local`, make run) nor the tests ever need a real private key:
// a stand-in "SII" key and certificate that sign CAFs (in place of the
// SII's IDK 100 key), CAF files for any issuer, type, folio range and date
// (512-bit RSA keys with exponent 3, the real layout, ISO-8859-1 bytes), a
// certification authority and personal signing certificates carrying a RUT
// in subjectAltName, and files on disk in the formats the functions read.
//
// Nothing made here is trusted by the SII: documents signed with it are
// for the local stack and the tests only. Test helpers built on it (a
// shared set, Must* wrappers, the xmllint and xmlsec1 checks) are in
// shared/dte/dtetest, which production binaries do not link.
package localpki

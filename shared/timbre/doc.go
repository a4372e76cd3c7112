// Package timbre is the timbre electrónico as it is printed: the TED of a
// signed DTE turned into the bytes a PDF417 barcode carries, and the check
// an SII inspector's scanner makes on those bytes alone.
//
// The bytes are the TED element exactly as it was signed inside the DTE,
// flattened the way the SII flattens what it signs (docs/sii-protocol.md §5.3,
// docs/sii-printing.md §1): no namespace declarations or prefixes, no whitespace
// between tags, text escaped with the five XML entities, ISO-8859-1. FRMT
// signs the DD flattened the same way, so whoever scans the barcode can
// re-check FRMT with the CAF public key the DD carries, and the CAF with
// the SII's key, without the XML document.
package timbre

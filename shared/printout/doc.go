// Package printout makes the printed representation of a signed DTE, the
// PDF a customer receives (docs/sii-printing.md): letter size or an 80 mm ticket
// (IdDoc/TpoImpresion), with the header box (issuer RUT with dots,
// document name, folio, the SII office of the issuer's comuna under it),
// issuer and receiver, detail, totals, references, and the timbre as a
// PDF417 symbol (the TED's bytes, error correction level 5, byte
// compaction, rows three modules high, a 0.25 in quiet zone, within the
// SII's size bounds) drawn with vector rectangles, captioned "Timbre
// Electrónico SII", the resolution and "Verifique documento: www.sii.cl".
// The cedible copy adds the acuse de recibo for facturas and for guías
// that are sales ("CEDIBLE CON SU FACTURA"), never for notes.
//
// Everything printed comes from the signed XML, except what a DTE does
// not carry: the SII resolution (an EnvioDTE's Carátula has it; for a
// standalone DTE it is an option) and, for comunas outside the table, the
// SII office. Texts print with the PDF core fonts (Helvetica,
// WinAnsiEncoding), which hold all of ISO-8859-1.
package printout

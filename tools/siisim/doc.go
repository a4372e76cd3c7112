// Package siisim is a stand-in for the SII's DTE web services, faithful
// enough that code which passes against it passes against maullin
// (the SII's web-service manuals; docs/design.md).
//
// It serves the SII's paths with the SII's wire formats (Axis SOAP with
// escaped answers, DTEUpload's multipart and RECEPCIONDTE answer):
//
//	POST /DTEWS/CrSeed.jws             getSeed: 12-digit seeds, single use, 2 min
//	POST /DTEWS/GetTokenFromSeed.jws   getToken: checks the signed seed, issues a token
//	POST /cgi_dte/UPL/DTEUpload        upload: token, fields, schema, SetDTE signature → TrackID
//	POST /DTEWS/QueryEstUp.jws         getEstUp: REC → SOK → CRT → FOK → PRD → EPR (or RSC/RFR/RCT/RPT)
//	POST /DTEWS/QueryEstDte.jws        getEstDte: DOK / DNK / FAU (+ note codes)
//
// What it checks, it checks as docs/sii-protocol.md says the SII does: the EnvioDTE
// against the official schemas (in process, tools/xsd) and the structure
// signatures rely on (STATUS 7), the SetDTE signature
// (STATUS 8), the sender and company against the token and the Carátula
// (STATUS 1, RCT), the Carátula's counts (RCT), and per document the DTE
// signature, the TED against its CAF, the CAF against the configured SII
// key, repeated documents (RPT) and notes whose referenced document it has
// not accepted yet (REF-3-750), each rejecting only that document.
// Signature, TED and CAF checks are the project's own (an Inspector, see
// the dte package's adapter); the codes, states and counts are the
// simulator's copy of the SII's rules.
//
// Faults can be set in Config or at run time on the admin endpoint:
//
//	GET/POST/DELETE /admin/faults   latency, next N calls 5xx / HTML / hang,
//	                                expire tokens, reject or object a document
//	GET /admin/received             uploads with TrackIDs and per-document results
//	GET /admin/stats                calls per operation
//
// A Server is an http.Handler, safe for concurrent use; Start runs it on
// an address until its context ends.
package siisim

// Package sii talks to the SII's DTE web services the way they really
// behave (the SII's web-service manuals; docs/design.md):
//
//   - authentication: getSeed → the seed signed with the sender's
//     certificate → getToken (Axis 1 SOAP services whose answers are XML
//     documents escaped inside a string);
//   - DTEUpload: a multipart upload of a signed EnvioDTE, authenticated by
//     the TOKEN cookie, answering a RECEPCIONDTE document with a TrackID;
//   - getEstUp (state of an upload) and getEstDte (state of one document),
//     mapped to one small status model (Pending, Accepted, Objected,
//     Rejected) that keeps the SII's own codes and texts.
//
// One Client serves any number of certificates: it keeps one token per
// certificate in a TokenCache (in memory, or shared between instances),
// refreshes it once when many goroutines need it at the same time, and
// re-authenticates once when the SII says the token is no longer valid.
//
// Every failure is an *Error that says which operation failed, the SII's
// code and text, and whether retrying can help. Permanent errors are also
// marked with errs.Permanent, so the pipeline's retry decision needs nothing
// from this package.
package sii

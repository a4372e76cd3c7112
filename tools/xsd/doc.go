// Package xsd validates documents against XML Schemas in process, with
// libxml2 through cgo: the schema is compiled once and every validation
// checks a document from memory, with no process to start: parsed into a
// tree as xmllint does, or, above StreamAbove, streamed through the schema
// (memory stays flat, and reading stops at the twentieth error).
//
// It is a small wrapper of its own rather than a general binding: libxml2
// is driven with exactly the options a verifier wants (no network, no DTD
// loading, no entity substitution, libxml2's own size and depth limits
// kept), errors are collected per validation (no process-wide error
// handler, so concurrent validations do not mix their messages), and
// there is no package-level state to initialise or clean up beyond
// libxml2's own one-time initialisation. A compiled Schema is read-only
// and safe for concurrent use; each Validate has its own parser and
// validation context.
//
// Building needs gcc, pkg-config and libxml2's headers (Debian:
// libxml2-dev). Built without cgo, Compile fails (ErrNoCgo) and whatever
// needs a schema fails closed.
package xsd

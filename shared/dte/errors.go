package dte

import (
	"errors"
	"fmt"
)

// Errors of Sign and Envelope. The ones a retry cannot fix come wrapped
// in errs.Permanent (check with errs.IsPermanent); branch on the cause
// with errors.Is. CAF problems wrap the caf package's errors
// (caf.ErrNoCAF, caf.ErrWrongType, caf.ErrWrongIssuer, caf.ErrFRMA,
// caf.ErrExpired, ...); certificate problems wrap certs.ErrExpired and
// certs.ErrNotYetValid.
var (
	// ErrInvalidRequest: the request cannot become a valid DTE (a value
	// the SII's schema cannot carry, totals that do not add up, ...).
	ErrInvalidRequest = errors.New("invalid DTE request")
	// ErrText: a text cannot be written in ISO-8859-1 or XML.
	ErrText = errors.New("text cannot be written in ISO-8859-1")
	// ErrCertificate: the signing certificate cannot sign now.
	ErrCertificate = errors.New("signing certificate not usable")
	// ErrNoSIIKeys: no SII keys to check the CAF's signature with.
	ErrNoSIIKeys = errors.New("no SII keys to verify the CAF's signature (FRMA)")
	// ErrEnvelope: the DTEs cannot go into one EnvioDTE.
	ErrEnvelope = errors.New("cannot build the EnvioDTE")
	// ErrNotDTE: bytes given as a DTE are not a DTE.
	ErrNotDTE = errors.New("not a DTE")
)

// FieldError is a problem with one field of the request, named by its
// path in the request JSON ("lines[2].name") and the XML element it
// feeds.
type FieldError struct {
	Field   string // request path
	Element string // DTE element, e.g. "Detalle/NmbItem"
	Err     error  // ErrText or ErrInvalidRequest, with detail
}

// Error names the field, the element and the problem.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s (%s): %v", e.Field, e.Element, e.Err)
}

// Unwrap gives the cause (ErrText, ErrInvalidRequest).
func (e *FieldError) Unwrap() error { return e.Err }

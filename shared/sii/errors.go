package sii

import (
	"errors"
	"strconv"
	"strings"

	"github.com/dtecl/pipeline/shared/errs"
)

// Operations named in errors and logs.
const (
	OpGetSeed   = "getSeed"
	OpGetToken  = "getToken"
	OpUpload    = "upload"
	OpGetEstUp  = "getEstUp"
	OpGetEstDte = "getEstDte"
)

// Codes this package gives failures that carry no SII code of their own.
const (
	CodeNetwork   = "network"    // connection refused, reset, DNS, ...
	CodeTimeout   = "timeout"    // the call's deadline passed
	CodeHTTP      = "http"       // an HTTP status without an SII answer; see HTTPStatus
	CodeHTML      = "html"       // an HTML page instead of XML (overload, maintenance)
	CodeLoginPage = "login-page" // the HTML login page: the token was not accepted
	CodeSOAPFault = "soap-fault" // an Axis SOAP fault
	CodeMalformed = "malformed"  // an answer that cannot be read (empty, truncated, no code)
	CodeSigning   = "signing"    // the seed could not be signed locally
)

// Sentinels for errors.Is on an *Error.
var (
	// ErrTokenRejected: the SII did not accept the token (upload STATUS 5,
	// ESTADO 001/002/003, the login page). The client re-authenticates once
	// by itself; seeing it means the fresh token was refused too.
	ErrTokenRejected = errors.New("sii: token rejected")
	// ErrDuplicate: the SII says it already received this file (STATUS 99).
	ErrDuplicate = errors.New("sii: file already received")
)

// Error is a failure talking to the SII. It keeps the SII's own code and
// text; Transient says whether the same call can succeed later. Errors
// returned by this package are *Error, wrapped with errs.Permanent when not
// transient: use errors.As to read it and errs.IsPermanent to decide.
type Error struct {
	Op         string   // OpGetSeed, OpUpload, ...
	Subject    string   // what it was about: "track 4711", "33 folio 12", "envio.xml"
	Code       string   // the SII's code (STATUS, ESTADO) or one of the Code* values
	Message    string   // the SII's text (GLOSA, DETAIL) or a description
	Detail     []string // DETAIL/ERROR lines of an upload, SOAP fault details
	HTTPStatus int      // the HTTP status when it matters, else 0
	Transient  bool     // retrying later can help
	// TokenRejected reports that the SII refused the token: get a new one
	// and try again.
	TokenRejected bool
	Err           error // the underlying cause (network error, parse error)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sii ")
	b.WriteString(e.Op)
	if e.Subject != "" {
		b.WriteString(" ")
		b.WriteString(e.Subject)
	}
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
	}
	if e.HTTPStatus != 0 && e.Code != CodeHTTP {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
		b.WriteString(")")
	} else if e.HTTPStatus != 0 {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
	}
	if e.Message != "" {
		b.WriteString(" ")
		b.WriteString(e.Message)
	}
	if len(e.Detail) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Detail, "; "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Transient {
		b.WriteString(" (transient)")
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches ErrTokenRejected and ErrDuplicate.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTokenRejected:
		return e.TokenRejected
	case ErrDuplicate:
		return e.Op == OpUpload && e.Code == "99"
	}
	return false
}

// wrap returns e as an error, marked permanent unless it is transient.
func (e *Error) wrap() error {
	if e.Transient {
		return e
	}
	return errs.Permanent(e)
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsTransient reports whether err is worth retrying: an *Error that says
// so, or any error not marked permanent (errs' rule).
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := AsError(err); ok {
		return e.Transient
	}
	return !errs.IsPermanent(err)
}

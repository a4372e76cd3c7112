package xsd

import (
	"errors"
	"fmt"
)

// Invalid is a document that is not well-formed or not valid: libxml2's
// messages, in document order.
type Invalid struct {
	Schema   string
	Problems []string
}

// Error lists the problems.
func (e *Invalid) Error() string {
	return fmt.Sprintf("not valid against %s: %v", e.Schema, e.Problems)
}

// ErrClosed is returned by Validate after Close.
var ErrClosed = errors.New("xsd: schema closed")

// ErrNoCgo is returned by Compile in a program built without cgo.
var ErrNoCgo = errors.New("xsd: built without cgo (CGO_ENABLED=0): no libxml2 to validate with; build with gcc, pkg-config and libxml2-dev")

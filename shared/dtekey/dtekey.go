// Package dtekey is the identity of a document across the pipeline:
// {rutEmisor}-{tipoDTE}-{folio}, e.g. 76086428-5-33-1042. It is the
// idempotency key, the CloudEvents `dtekey` extension and the archive path.
package dtekey

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dtecl/pipeline/shared/rut"
)

// Key identifies one DTE.
type Key struct {
	Issuer rut.RUT
	Type   int
	Folio  int64
}

// ErrInvalid is returned for a text that is not a dtekey.
var ErrInvalid = errors.New("not a dtekey: expected {rutEmisor}-{tipoDTE}-{folio}, e.g. 76086428-5-33-1042")

// New builds a key from its parts, validating the RUT.
func New(issuer string, docType int, folio int64) (Key, error) {
	r, err := rut.Parse(issuer)
	if err != nil {
		return Key{}, fmt.Errorf("dtekey issuer: %w", err)
	}
	if docType <= 0 || folio <= 0 {
		return Key{}, fmt.Errorf("dtekey %s-%d-%d: %w", issuer, docType, folio, ErrInvalid)
	}
	return Key{Issuer: r, Type: docType, Folio: folio}, nil
}

// Parse reads a key such as "76086428-5-33-1042".
func Parse(s string) (Key, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 4 {
		return Key{}, fmt.Errorf("%q: %w", s, ErrInvalid)
	}
	t, err1 := strconv.Atoi(parts[2])
	f, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || parts[2] != strconv.Itoa(t) || parts[3] != strconv.FormatInt(f, 10) {
		return Key{}, fmt.Errorf("%q: %w", s, ErrInvalid)
	}
	k, err := New(parts[0]+"-"+parts[1], t, f)
	if err != nil {
		return Key{}, fmt.Errorf("%q: %w", s, err)
	}
	return k, nil
}

// String formats the key: "76086428-5-33-1042".
func (k Key) String() string {
	return k.Issuer.String() + "-" + strconv.Itoa(k.Type) + "-" + strconv.FormatInt(k.Folio, 10)
}

// IsZero reports whether k is the zero value.
func (k Key) IsZero() bool { return k.Issuer.IsZero() }

// DocumentID is the Documento ID attribute the SII convention uses: F{folio}T{type}.
func (k Key) DocumentID() string {
	return "F" + strconv.FormatInt(k.Folio, 10) + "T" + strconv.Itoa(k.Type)
}

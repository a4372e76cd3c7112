//go:build !cgo

package xsd

// StreamAbove is the size above which a document is streamed (see the cgo
// build).
const StreamAbove = 1 << 20

// Schema is a compiled XML Schema; without cgo there is none.
type Schema struct{ name string }

// Compile fails without cgo: validation needs libxml2.
func Compile(path string) (*Schema, error) { return nil, ErrNoCgo }

// Name is the schema file's base name.
func (s *Schema) Name() string { return s.name }

// Validate fails without cgo.
func (s *Schema) Validate(doc []byte) error { return ErrNoCgo }

// ValidateRoot fails without cgo.
func (s *Schema) ValidateRoot(doc []byte, ns, name string) error { return ErrNoCgo }

// Close does nothing.
func (s *Schema) Close() {}

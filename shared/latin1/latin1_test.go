package latin1

import (
	"bytes"
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"ascii", "Factura 33", true},
		{"spanish", "Diseño Ñuñoa, pingüino, acción", true},
		{"tab and newline", "a\tb\nc", true},
		{"euro sign", "precio 5€", false},
		{"emoji", "café ☕", false},
		{"curly quotes", "“hola”", false},
		{"nul", "a\x00b", false},
		{"C1 control", "a\u0085b", false},
		{"invalid utf8", "a\xffb", false},
		{"latin1 max", "ÿ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			var ice *InvalidCharError
			if err != nil && !errors.As(err, &ice) {
				t.Fatalf("error is %T, want *InvalidCharError", err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	in := "Razón Social Ñandú Ltda. ¿ü?"
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != len([]rune(in)) {
		t.Fatalf("Encode produced %d bytes for %d characters", len(b), len([]rune(in)))
	}
	if got := string(Decode(b)); got != in {
		t.Fatalf("Decode(Encode(x)) = %q, want %q", got, in)
	}
	b2, err := EncodeBytes([]byte(in))
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("EncodeBytes = %q, %v; want %q", b2, err, b)
	}
	if _, err := EncodeBytes([]byte("€")); err == nil {
		t.Fatal("EncodeBytes accepted a character outside Latin-1")
	}
}

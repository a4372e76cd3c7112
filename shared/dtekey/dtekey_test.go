package dtekey

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"76086428-5-33-1042", true, "F1042T33"},
		{"60803000-K-61-1", true, "F1T61"},
		{"76086428-4-33-1042", false, ""},
		{"76086428-5-33-01042", false, ""},
		{"76086428-5-33", false, ""},
		{"76086428-5-33-0", false, ""},
		{"76086428-5-x-1", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, err := Parse(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) && k.IsZero() == false {
					t.Fatalf("unexpected error kind %v", err)
				}
				return
			}
			if k.String() != tt.in || k.DocumentID() != tt.want {
				t.Fatalf("got %q / %q", k.String(), k.DocumentID())
			}
		})
	}
}

package rut

import (
	"errors"
	"testing"
)

func TestCheckDigit(t *testing.T) {
	tests := map[int64]byte{
		97975000: '5', // docs/sii-protocol.md's example
		60803000: 'K', // the SII
		76086428: '5',
		11111111: '1',
		1:        '9',
		76354771: 'K',
		14:       '0',
	}
	for n, want := range tests {
		if got := CheckDigit(n); got != want {
			t.Errorf("CheckDigit(%d) = %c, want %c", n, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    RUT
		wantErr error
	}{
		{in: "76086428-5", want: RUT{76086428, '5'}},
		{in: "60803000-K", want: RUT{60803000, 'K'}},
		{in: "1-9", want: RUT{1, '9'}},
		{in: "76086428-4", wantErr: ErrCheckDigit},
		{in: "60803000-k", wantErr: ErrFormat},
		{in: "76.086.428-5", wantErr: ErrFormat},
		{in: "076086428-5", wantErr: ErrFormat},
		{in: "760864285", wantErr: ErrFormat},
		{in: "", wantErr: ErrFormat},
		{in: "-5", wantErr: ErrFormat},
		{in: "123456789-0", wantErr: ErrFormat},
		{in: "12a4-5", wantErr: ErrFormat},
		{in: "1234-55", wantErr: ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err == nil && got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"76086428-5", "60803000-K", "1-9", "x", "1-", "99999999-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if r.String() != s {
			t.Fatalf("round trip: Parse(%q).String() = %q", s, r.String())
		}
		if CheckDigit(r.Number) != r.DV {
			t.Fatalf("accepted a wrong check digit: %q", s)
		}
	})
}

package rut

import "testing"

func TestDotted(t *testing.T) {
	for in, want := range map[string]string{
		"76086428-5": "76.086.428-5", "60803000-K": "60.803.000-K", "7880442-4": "7.880.442-4",
		"1-9": "1-9", "999999-K": "999.999-K",
	} {
		if got := MustParse(in).Dotted(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

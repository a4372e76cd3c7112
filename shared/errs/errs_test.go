package errs

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestIsPermanent(t *testing.T) {
	base := errors.New("folio outside every CAF")
	tests := map[string]struct {
		err  error
		want bool
	}{
		"nil":                {nil, false},
		"plain":              {base, false},
		"timeout":            {context.DeadlineExceeded, false},
		"marked":             {Permanent(base), true},
		"marked and wrapped": {fmt.Errorf("sign 33 folio 7: %w", Permanent(base)), true},
		"formatted":          {Permanentf("bad %s", "caf"), true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsPermanent(tt.err); got != tt.want {
				t.Fatalf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	if !errors.Is(fmt.Errorf("x: %w", Permanent(base)), base) {
		t.Fatal("Permanent hides the wrapped error from errors.Is")
	}
}

package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"dtekey":"76086428-5-33-1"}`)
	now := time.Unix(1_800_000_000, 0)
	good := Sign(secret, now, body)
	tests := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", good, body, now, nil},
		{"good within window", good, body, now.Add(4 * time.Minute), nil},
		{"stale", good, body, now.Add(6 * time.Minute), ErrStale},
		{"from the future", good, body, now.Add(-6 * time.Minute), ErrStale},
		{"body changed", good, []byte(`{"dtekey":"76086428-5-33-2"}`), now, ErrMismatch},
		{"wrong secret", Sign([]byte("other"), now, body), body, now, ErrMismatch},
		{"missing", "", body, now, ErrMissing},
		{"no v1", "t=1800000000", body, now, ErrMalformed},
		{"bad hex", "t=1800000000,v1=zz", body, now, ErrMalformed},
		{"short hmac", "t=1800000000,v1=abcd", body, now, ErrMalformed},
		{"garbage", "hello", body, now, ErrMalformed},
		{"rotated secret", good + ",v1=" + strings.Repeat("0", 64), body, now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(secret, tt.header, tt.body, tt.now, DefaultWindow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignFormat(t *testing.T) {
	// Known answer computed independently:
	// printf '1700000000.{}' | openssl dgst -sha256 -hmac key
	got := Sign([]byte("key"), time.Unix(1700000000, 0), []byte("{}"))
	const want = "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

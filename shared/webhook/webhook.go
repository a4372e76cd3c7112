// Package webhook signs and verifies the HMAC header used in both directions
// between Odoo and the pipeline (docs/design.md, "Odoo callback"):
//
//	X-DTE-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The timestamp bounds replays: a signature older (or newer) than the window
// is refused even when the HMAC matches.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the HTTP header that carries the signature.
const Header = "X-DTE-Signature"

// DefaultWindow is how far a signature's timestamp may be from now.
const DefaultWindow = 5 * time.Minute

// Verification failures. All mean 401 to the sender.
var (
	ErrMissing   = errors.New("signature header missing")
	ErrMalformed = errors.New("signature header malformed: want t=<unix>,v1=<hex>")
	ErrStale     = errors.New("signature timestamp outside the allowed window")
	ErrMismatch  = errors.New("signature does not match the body")
)

// Sign returns the header value for body signed at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header against body: well formed, within window of now, and
// an HMAC that matches (compared in constant time). Several v1 values are
// accepted so that a secret can be rotated.
func Verify(secret []byte, header string, body []byte, now time.Time, window time.Duration) error {
	if header == "" {
		return ErrMissing
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return ErrMalformed
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("%w: signed at %s, %s away from now", ErrStale, time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrMismatch
}

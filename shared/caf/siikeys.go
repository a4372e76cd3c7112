package caf

import (
	"crypto/rsa"
	"embed"
	"fmt"
)

// siiKeyFiles are the SII's public certificates whose keys sign CAFs: IDK
// 100 (certification, maullin) and IDK 300 (production, palena). They are
// public (published by the SII; see testdata/sii/README.md).
//
//go:embed siikeys/100.cer siikeys/300.cer
var siiKeyFiles embed.FS

// BuiltinKeys returns the SII's CAF-signing keys for IDK 100 and 300.
func BuiltinKeys() (*Keys, error) {
	m := map[int64]*rsa.PublicKey{}
	for idk, name := range map[int64]string{100: "siikeys/100.cer", 300: "siikeys/300.cer"} {
		b, err := siiKeyFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		pub, err := ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("built-in SII key %d: %w", idk, err)
		}
		m[idk] = pub
	}
	return NewKeys(m), nil
}

// SIIKeys returns the built-in SII keys, overridden by the keys in dir when
// dir is not empty (files named by IDK, such as 100.cer): a test "SII" for
// the local run, or a key the SII published after this release.
func SIIKeys(dir string) (*Keys, error) {
	builtin, err := BuiltinKeys()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return builtin, nil
	}
	extra, err := LoadKeys(dir)
	if err != nil {
		return nil, fmt.Errorf("SII CAF keys: %w", err)
	}
	m := map[int64]*rsa.PublicKey{}
	for _, idk := range builtin.IDKs() {
		m[idk], _ = builtin.Get(idk)
	}
	for _, idk := range extra.IDKs() {
		m[idk], _ = extra.Get(idk)
	}
	return NewKeys(m), nil
}

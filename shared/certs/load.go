package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"software.sslmate.com/src/go-pkcs12"
)

// LoadPKCS12 reads a PKCS#12 (.p12/.pfx) file: the key, its certificate and
// any CA certificates. Legacy encryption (RC2-40, 3DES) is supported.
func LoadPKCS12(data []byte, password string) (*Certificate, error) {
	key, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("read PKCS#12: %w", err)
	}
	return New(key, append([]*x509.Certificate{leaf}, chain...))
}

// LoadPEM reads certificates and an unencrypted private key (PKCS#1 "RSA
// PRIVATE KEY" or PKCS#8 "PRIVATE KEY") from PEM data. certPEM and keyPEM
// may be the same bytes (one file holding both).
func LoadPEM(certPEM, keyPEM []byte) (*Certificate, error) {
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("read certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	var key any
	for rest := keyPEM; key == nil; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; enc {
				return nil, errors.New("read private key: encrypted PEM keys are not supported; use a PKCS#12 file or an unencrypted key")
			}
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("read private key: encrypted PKCS#8 keys are not supported; use a PKCS#12 file or an unencrypted key")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read private key: %w", err)
		}
	}
	if key == nil {
		return nil, ErrNoKey
	}
	return New(key, certs)
}

// LoadFile reads a certificate from disk: a PKCS#12 file (certPath, with
// password; keyPath empty), or PEM (certPath holding the certificate, keyPath
// the key; keyPath may be empty when certPath holds both). Errors name the
// file.
func LoadFile(certPath, keyPath, password string) (*Certificate, error) {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	if !isPEM(data) {
		c, err := LoadPKCS12(data, password)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", certPath, err)
		}
		return c, nil
	}
	keyData, keyName := data, certPath
	if keyPath != "" {
		if keyData, err = os.ReadFile(keyPath); err != nil {
			return nil, err
		}
		keyName = keyPath
	}
	c, err := LoadPEM(data, keyData)
	if err != nil {
		if errors.Is(err, ErrNoKey) {
			return nil, fmt.Errorf("%s: %w", keyName, err)
		}
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	return c, nil
}

func isPEM(b []byte) bool {
	return bytes.Contains(b, []byte("-----BEGIN "))
}

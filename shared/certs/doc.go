// Package certs loads the certificate that signs DTEs, envelopes and the
// SII's authentication seed: a personal certificate (persona natural) with
// its RSA private key, from a PKCS#12 file (.p12/.pfx, including the legacy
// RC2-40 encryption that SII-era files use) or from PEM files, and reads the
// RUT of its owner, which the SII wants as Carátula/RutEnvia and rutSender.
package certs

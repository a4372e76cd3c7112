package certs

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"regexp"
	"strings"

	"github.com/dtecl/pipeline/shared/rut"
)

// OIDRUT is the otherName type Chilean CAs use in subjectAltName for the
// holder's RUT (E-CERTCHILE, E-Sign, Acepta, ...).
var OIDRUT = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 8321, 1}

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSerialNumber   = asn1.ObjectIdentifier{2, 5, 4, 5}
	// A RUT inside free text: "RUT - 11111111-1", "RUT:11.111.111-1".
	rutInText = regexp.MustCompile(`(?:^|[^0-9.])(\d{1,2}\.\d{3}\.\d{3}|\d{1,8})\s*-\s*([0-9K])(?:$|[^0-9A-Z])`)
)

// RUTOf reads the certificate holder's RUT: first from subjectAltName
// otherName 1.3.6.1.4.1.8321.1 (the standard place), then from the forms
// some CAs use instead: subject serialNumber, OU ("RUT - 11111111-1") and
// CN. Every candidate must pass the módulo-11 check.
func RUTOf(c *x509.Certificate) (rut.RUT, error) {
	if s, ok := sanRUT(c); ok {
		if r, err := rutFromText(s); err == nil {
			return r, nil
		}
	}
	var candidates []string
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidSerialNumber) {
			if s, ok := n.Value.(string); ok {
				candidates = append(candidates, s)
			}
		}
	}
	candidates = append(candidates, c.Subject.OrganizationalUnit...)
	candidates = append(candidates, c.Subject.CommonName)
	for _, s := range candidates {
		if r, err := rutFromText(s); err == nil {
			return r, nil
		}
	}
	return rut.RUT{}, fmt.Errorf("certificate %q: %w", c.Subject.CommonName, ErrNoRUT)
}

// sanRUT finds the otherName 1.3.6.1.4.1.8321.1 in subjectAltName.
func sanRUT(c *x509.Certificate) (string, bool) {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var names []asn1.RawValue
		if _, err := asn1.Unmarshal(ext.Value, &names); err != nil {
			return "", false
		}
		for _, gn := range names {
			if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 || !gn.IsCompound {
				continue // not an otherName
			}
			// otherName is [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value }.
			var on struct {
				TypeID asn1.ObjectIdentifier
				Value  asn1.RawValue `asn1:"explicit,tag:0"`
			}
			seq := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: gn.Bytes}
			der, err := asn1.Marshal(seq)
			if err != nil {
				continue
			}
			if _, err := asn1.Unmarshal(der, &on); err != nil || !on.TypeID.Equal(OIDRUT) {
				continue
			}
			// The value is a string (IA5String, UTF8String, PrintableString).
			return strings.TrimSpace(string(on.Value.Bytes)), true
		}
	}
	return "", false
}

// rutFromText extracts a RUT from text such as "13185095-6",
// "RUT - 11111111-1" or "11.111.111-1".
func rutFromText(s string) (rut.RUT, error) {
	m := rutInText.FindStringSubmatch(strings.ToUpper(s))
	if m == nil {
		return rut.RUT{}, ErrNoRUT
	}
	return rut.Parse(strings.ReplaceAll(m[1], ".", "") + "-" + m[2])
}

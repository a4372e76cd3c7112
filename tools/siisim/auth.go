package siisim

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/rut"
)

func (s *Server) handleSeed(w http.ResponseWriter, r *http.Request) {
	if _, _, err := readSOAP(r); err != nil {
		writeFault(w, "soapenv:Client", err.Error())
		return
	}
	seed := randomDigits(12)
	now := s.cfg.Now()
	s.mu.Lock()
	for k, exp := range s.seeds { // keep the table small
		if now.After(exp) {
			delete(s.seeds, k)
		}
	}
	s.seeds[seed] = now.Add(s.cfg.SeedTTL)
	s.mu.Unlock()
	writeSOAP(w, r, "getSeed", respuesta([]kv{{"ESTADO", "00"}}, []kv{{"SEMILLA", seed}}))
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	_, params, err := readSOAP(r)
	if err != nil {
		writeFault(w, "soapenv:Client", err.Error())
		return
	}
	code, tok := s.issueToken(params["pszXml"])
	if code != tokOK {
		s.cfg.Logger.Info("siisim token refused", "estado", code)
		writeSOAP(w, r, "getToken", respuesta([]kv{{"ESTADO", code}, {"GLOSA", tokenGlosa(code)}}, nil))
		return
	}
	writeSOAP(w, r, "getToken", respuesta([]kv{{"ESTADO", tokOK}, {"GLOSA", tokenGlosa(tokOK)}}, []kv{{"TOKEN", tok}}))
}

// issueToken checks a signed seed document in the order the SII's codes
// suggest (structure, signature, key, seed, certificate owner) and
// returns the ESTADO and, for 00, a new token.
func (s *Server) issueToken(doc string) (code, token string) {
	sd, err := parseSeedDoc([]byte(doc))
	switch {
	case err != nil:
		return tokBadXML, ""
	case sd.seed == "":
		return tokNoSeed, ""
	case !sd.hasSignature:
		return tokNoSignature, ""
	case sd.certificate == "":
		return tokNoCertificate, ""
	}
	cert, err := s.cfg.Inspector.VerifySeed([]byte(doc))
	switch {
	case errors.Is(err, ErrKeyMismatch):
		return tokKeyMismatch, ""
	case errors.Is(err, ErrNoCertificate):
		return tokNoCertificate, ""
	case err != nil:
		s.cfg.Logger.Info("siisim seed signature invalid", "err", err)
		return tokBadSignature, ""
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || sd.modulus == "" || !sameModulus(pub, sd.modulus, sd.exponent) {
		return tokKeyMismatch, ""
	}
	owner, err := certs.RUTOf(cert)
	if err != nil {
		return tokRUT, ""
	}
	now := s.cfg.Now()
	if !s.cfg.AcceptExpiredCertificates && certs.CheckValidity(cert, now) != nil {
		return tokAuth, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.seeds[sd.seed]
	if !ok || now.After(exp) {
		return tokRetorno, ""
	}
	delete(s.seeds, sd.seed) // single use
	token = randomToken()
	s.tokens[token] = &session{rut: owner, expires: now.Add(s.cfg.TokenTTL)}
	return tokOK, token
}

// tokenOwner checks a token: its owner, or the getEstUp/getEstDte ESTADO
// that refuses it (001 none given, 002 expired, 003 unknown).
func (s *Server) tokenOwner(tok string) (rut.RUT, string) {
	if tok == "" {
		return rut.RUT{}, estNoCookie
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	switch {
	case !ok:
		return rut.RUT{}, estTokenNoExi
	case !s.cfg.Now().Before(t.expires):
		return rut.RUT{}, estTokenDead
	}
	return t.rut, ""
}

// seedDoc is the structure of a signed getToken document.
type seedDoc struct {
	seed              string
	hasSignature      bool
	certificate       string
	modulus, exponent string
}

func parseSeedDoc(b []byte) (*seedDoc, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	sd := &seedDoc{}
	var path []string
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = t.Name.Local
			}
			path = append(path, t.Name.Local)
			text.Reset()
			if t.Name.Local == "Signature" && t.Name.Space == "http://www.w3.org/2000/09/xmldsig#" {
				sd.hasSignature = true
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			switch strings.Join(path, "/") {
			case "getToken/item/Semilla":
				sd.seed = v
			}
			switch t.Name.Local {
			case "X509Certificate":
				sd.certificate = v
			case "Modulus":
				sd.modulus = v
			case "Exponent":
				sd.exponent = v
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if root == "" {
		return nil, errors.New("empty document")
	}
	return sd, nil
}

// sameModulus compares KeyValue's RSAKeyValue with the certificate's key:
// ESTADO 21 when they differ.
func sameModulus(pub *rsa.PublicKey, modB64, expB64 string) bool {
	m, err1 := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(modB64), ""))
	e, err2 := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(expB64), ""))
	if err1 != nil || err2 != nil {
		return false
	}
	return new(big.Int).SetBytes(m).Cmp(pub.N) == 0 && new(big.Int).SetBytes(e).Int64() == int64(pub.E)
}

func randomDigits(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// randomToken looks like the SII's tokens: 13 letters and digits.
func randomToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 13)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// readSOAP reads a SOAP request body (bounded).
func readSOAP(r *http.Request) (string, map[string]string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return "", nil, err
	}
	return readSOAPRequest(body)
}

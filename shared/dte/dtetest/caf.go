package dtetest

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/rut"
)

// CAFSpec describes a CAF to generate.
type CAFSpec struct {
	Issuer rut.RUT
	// Name is DA/RS. The SII writes at most 40 characters and cuts longer
	// names; so does CAF.
	Name       string
	Type       int
	From, To   int64
	Authorized time.Time // DA/FA; today when zero
	IDK        int64     // IDK by default
}

// CAF generates a CAF file signed by the test SII key: the SII's layout
// (<AUTORIZACION> with CAF, RSASK and RSAPUBK, no encoding declaration,
// ISO-8859-1 bytes, 512-bit key with exponent 3). It returns the file and
// its parsed form.
func (p *PKI) CAF(s CAFSpec) (*caf.CAF, []byte, error) {
	if s.Authorized.IsZero() {
		s.Authorized = time.Now()
	}
	if s.IDK == 0 {
		s.IDK = IDK
	}
	if r := []rune(s.Name); len(r) > 40 {
		s.Name = string(r[:40])
	}
	key, err := newCAFKey()
	if err != nil {
		return nil, nil, err
	}
	m := base64.StdEncoding.EncodeToString(key.N.Bytes())
	e := base64.StdEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())
	name, err := caf.AppendEntities(nil, s.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("dtetest: CAF name: %w", err)
	}
	// DA exactly as the SII flattens it for FRMA.
	var da []byte
	da = append(da, "<DA><RE>"+s.Issuer.String()+"</RE><RS>"...)
	da = append(da, name...)
	da = append(da, "</RS><TD>"+strconv.Itoa(s.Type)+"</TD><RNG><D>"+strconv.FormatInt(s.From, 10)+
		"</D><H>"+strconv.FormatInt(s.To, 10)+"</H></RNG><FA>"+s.Authorized.Format(time.DateOnly)+
		"</FA><RSAPK><M>"+m+"</M><E>"+e+"</E></RSAPK><IDK>"+strconv.FormatInt(s.IDK, 10)+"</IDK></DA>"...)
	frma, err := p.signFRMA(da)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	// The file, ISO-8859-1 (name is already), DA's children one per line
	// as the SII writes them.
	var f []byte
	f = append(f, "<?xml version=\"1.0\"?>\n<AUTORIZACION>\n<CAF version=\"1.0\">\n<DA>\n<RE>"+s.Issuer.String()+"</RE>\n<RS>"...)
	f = append(f, name...)
	f = append(f, "</RS>\n<TD>"+strconv.Itoa(s.Type)+"</TD>\n<RNG><D>"+strconv.FormatInt(s.From, 10)+
		"</D><H>"+strconv.FormatInt(s.To, 10)+"</H></RNG>\n<FA>"+s.Authorized.Format(time.DateOnly)+
		"</FA>\n<RSAPK><M>"+m+"</M><E>"+e+"</E></RSAPK>\n<IDK>"+strconv.FormatInt(s.IDK, 10)+
		"</IDK>\n</DA>\n<FRMA algoritmo=\"SHA1withRSA\">"+base64.StdEncoding.EncodeToString(frma)+"</FRMA>\n</CAF>\n<RSASK>"...)
	f = append(f, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	f = append(f, "</RSASK>\n\n<RSAPUBK>"...)
	f = append(f, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})...)
	f = append(f, "</RSAPUBK>\n</AUTORIZACION>\n"...)
	c, err := caf.Parse(f)
	if err != nil {
		return nil, nil, fmt.Errorf("dtetest: generated CAF does not parse: %w", err)
	}
	return c, f, nil
}

// MustCAF is CAF for tests.
func (p *PKI) MustCAF(t TB, s CAFSpec) (*caf.CAF, []byte) {
	t.Helper()
	c, b, err := p.CAF(s)
	if err != nil {
		t.Fatalf("dtetest: %v", err)
	}
	return c, b
}

var (
	issueDateRE = regexp.MustCompile(`"issue_date"\s*:\s*"(\d{4}-\d{2}-\d{2})"`)
	anyDateRE   = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}"`)
)

// DatedToday moves every date (YYYY-MM-DD) in a DTE request's JSON by the
// same number of days, so that its issue_date becomes today in Chile: the
// sample requests keep fixed dates, while a document that is verified
// must not be dated before its CAF (authorised recently by these
// fixtures) nor after today.
func DatedToday(b []byte) ([]byte, error) {
	m := issueDateRE.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("dtetest: no issue_date in the request")
	}
	issued, err := time.Parse(time.DateOnly, string(m[1]))
	if err != nil {
		return nil, err
	}
	y, mo, d := time.Now().In(dte.Chile).Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	days := int(today.Sub(issued).Hours() / 24)
	return anyDateRE.ReplaceAllFunc(b, func(q []byte) []byte {
		t, err := time.Parse(time.DateOnly, string(q[1:len(q)-1]))
		if err != nil {
			return q
		}
		return []byte(`"` + t.AddDate(0, 0, days).Format(time.DateOnly) + `"`)
	}), nil
}

package dte

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Limits of an EnvioDTE (EnvioDTE_v10.xsd).
const (
	MaxEnvelopeDTEs  = 2000
	MaxEnvelopeTypes = 20
)

// Header is what an EnvioDTE's Carátula says beyond what the DTEs and the
// certificate tell.
type Header struct {
	// Issuer is RutEmisor; when zero, the DTEs' issuer. Every DTE must
	// have this issuer.
	Issuer rut.RUT
	// Receiver is RutReceptor; when zero, the SII (60803000-K).
	Receiver rut.RUT
	// Resolution is FchResol and NroResol: the SII resolution that
	// authorises the issuer (NroResol 0 in certification).
	Resolution request.Resolution
	// SetID is SetDTE's ID; when empty one is derived from the issuer,
	// the signing time and the DTEs.
	SetID string
}

// Envelope is a signed EnvioDTE.
type Envelope struct {
	XML       []byte       // ISO-8859-1, with its XML declaration
	SetID     string       // SetDTE ID, referenced by the signature
	Issuer    rut.RUT      // RutEmisor
	Sender    rut.RUT      // RutEnvia: the certificate's RUT
	Receiver  rut.RUT      // RutReceptor
	SignedAt  time.Time    // TmstFirmaEnv
	Documents []dtekey.Key // the DTEs, in order
	SubTotals []SubTotal   // SubTotDTE
}

// SubTotal is one SubTotDTE line: how many DTEs of a type.
type SubTotal struct {
	Type  int `json:"type"`
	Count int `json:"count"`
}

var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]*$`)

// Envelope wraps signed DTEs (as Sign returns them, or any standalone
// signed DTE) in an EnvioDTE and signs SetDTE in its final place. The DTEs
// go in byte for byte, so their signatures stay valid; the Carátula counts
// them per type. Problems with the input are permanent errors wrapping
// ErrEnvelope, ErrNotDTE or ErrCertificate, naming the DTE by position and
// ID.
func (s *Signer) Envelope(ctx context.Context, h Header, dtes ...[]byte) (*Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return errs.Permanent(fmt.Errorf("envelope: "+format, args...))
	}
	if len(dtes) == 0 || len(dtes) > MaxEnvelopeDTEs {
		return nil, fail("%w: an EnvioDTE holds 1 to %d DTEs, got %d", ErrEnvelope, MaxEnvelopeDTEs, len(dtes))
	}
	now := s.clock.Now()
	if err := s.cert.ValidAt(now); err != nil {
		return nil, fail("%w: %w", ErrCertificate, err)
	}
	if _, err := time.Parse(time.DateOnly, h.Resolution.Date); err != nil {
		return nil, fail("%w: FchResol %q is not a date YYYY-MM-DD (the SII resolution that authorises the issuer)", ErrEnvelope, h.Resolution.Date)
	}
	if h.Resolution.Number < 0 || h.Resolution.Number > 999999 {
		return nil, fail("%w: NroResol %d is not 0..999999", ErrEnvelope, h.Resolution.Number)
	}
	env := &Envelope{Issuer: h.Issuer, Sender: s.cert.RUT, Receiver: h.Receiver, SignedAt: now}
	if env.Receiver.IsZero() {
		env.Receiver = rut.SII
	}

	docs := make([]*embedded, len(dtes))
	ids := map[string]int{}
	keys := map[dtekey.Key]int{}
	counts := map[int]int{}
	idHash := sha1.New()
	for i, b := range dtes {
		e, err := readDTE(b)
		if err != nil {
			return nil, fail("DTE %d: %w", i+1, err)
		}
		if env.Issuer.IsZero() {
			env.Issuer = e.issuer
		}
		if e.issuer != env.Issuer {
			return nil, fail("%w: DTE %d (%s) is issued by %s, the envelope by %s: all DTEs of an envelope have the same issuer", ErrEnvelope, i+1, e.id, e.issuer, env.Issuer)
		}
		if j, dup := ids[e.id]; dup {
			return nil, fail("%w: DTEs %d and %d have the same Documento ID %q", ErrEnvelope, j+1, i+1, e.id)
		}
		ids[e.id] = i
		k := dtekey.Key{Issuer: e.issuer, Type: e.typ, Folio: e.folio}
		if j, dup := keys[k]; dup {
			return nil, fail("%w: DTEs %d and %d are the same document %s", ErrEnvelope, j+1, i+1, k)
		}
		keys[k] = i
		counts[e.typ]++
		env.Documents = append(env.Documents, k)
		idHash.Write([]byte(e.id))
		docs[i] = e
	}
	if len(counts) > MaxEnvelopeTypes {
		return nil, fail("%w: %d document types; a Carátula lists at most %d", ErrEnvelope, len(counts), MaxEnvelopeTypes)
	}
	for t, n := range counts {
		env.SubTotals = append(env.SubTotals, SubTotal{Type: t, Count: n})
	}
	slices.SortFunc(env.SubTotals, func(a, b SubTotal) int { return a.Type - b.Type })

	env.SetID = h.SetID
	if env.SetID == "" {
		env.SetID = fmt.Sprintf("EnvioDTE-%d-%s-%s", env.Issuer.Number, now.In(Chile).Format("20060102T150405"), hex.EncodeToString(idHash.Sum(nil)[:4]))
	}
	if !ncName.MatchString(env.SetID) {
		return nil, fail("%w: SetDTE ID %q is not an XML name (letter or _ first; letters, digits, . - _)", ErrEnvelope, env.SetID)
	}
	if _, clash := ids[env.SetID]; clash {
		return nil, fail("%w: SetDTE ID %q is also a Documento ID", ErrEnvelope, env.SetID)
	}

	// The Carátula is ASCII and written in canonical form, so it is the
	// same in the document and in SetDTE's canonical form.
	car := make([]byte, 0, 512)
	car = append(car, `<Caratula version="1.0"><RutEmisor>`+env.Issuer.String()+`</RutEmisor><RutEnvia>`+env.Sender.String()+
		`</RutEnvia><RutReceptor>`+env.Receiver.String()+`</RutReceptor><FchResol>`+h.Resolution.Date+
		`</FchResol><NroResol>`+strconv.Itoa(h.Resolution.Number)+`</NroResol><TmstFirmaEnv>`+Timestamp(now)+`</TmstFirmaEnv>`...)
	for _, st := range env.SubTotals {
		car = append(car, `<SubTotDTE><TpoDTE>`+strconv.Itoa(st.Type)+`</TpoDTE><NroDTE>`+strconv.Itoa(st.Count)+`</NroDTE></SubTotDTE>`...)
	}
	car = append(car, `</Caratula>`...)

	// SetDTE's digest, streamed: SetDTE renders both namespaces in scope,
	// each DTE its canonical form under SetDTE.
	dh := sha1.New()
	dh.Write([]byte(`<SetDTE xmlns="` + NamespaceSiiDte + `" xmlns:xsi="` + NamespaceXSI + `" ID="` + env.SetID + `">`))
	dh.Write(car)
	size := 0
	for _, e := range docs {
		dh.Write(e.head)
		dh.Write(e.body)
		size += len(e.element)
	}
	dh.Write([]byte(`</SetDTE>`))
	digest := dh.Sum(nil)

	// The Signature is a child of EnvioDTE: xmlns:xsi is in scope there.
	si := xmlsig.AppendSignedInfo(make([]byte, 0, 800), xmlsig.SignedInfoNS(setScope), "#"+env.SetID, false, digest)
	value, err := s.xs.SignSignedInfo(si)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}

	x := make([]byte, 0, size+len(car)+4096)
	x = append(x, xmlDecl...)
	x = append(x, `<EnvioDTE xmlns="`+NamespaceSiiDte+`" xmlns:xsi="`+NamespaceXSI+`" xsi:schemaLocation="`+NamespaceSiiDte+
		` EnvioDTE_v10.xsd" version="1.0"><SetDTE ID="`+env.SetID+`">`...)
	x = append(x, car...)
	for _, e := range docs {
		x = append(x, e.element...)
	}
	x = append(x, `</SetDTE><Signature xmlns="`+xmlsig.Namespace+`">`...)
	x = xmlsig.AppendSignedInfo(x, nil, "#"+env.SetID, false, digest)
	x = append(x, "<SignatureValue>"...)
	x = base64.StdEncoding.AppendEncode(x, value)
	x = append(x, "</SignatureValue>"...)
	x = s.xs.AppendKeyInfo(x)
	x = append(x, "</Signature></EnvioDTE>\n"...)
	env.XML = x // ASCII around DTEs that are ISO-8859-1 already
	return env, nil
}

package dte

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Signer builds, stamps and signs DTEs and envelopes with one certificate.
// It is immutable and safe for concurrent use.
type Signer struct {
	cert  *certs.Certificate
	xs    *xmlsig.Signer
	keys  *caf.Keys
	clock Clock
	log   *slog.Logger
}

// cafExpiryWarning is how long before a CAF expires Sign starts to warn.
const cafExpiryWarning = 30 * 24 * time.Hour

// Option configures a Signer.
type Option func(*Signer)

// WithSIIKeys gives the SII keys that CAF signatures (FRMA) are checked
// with; Sign refuses to stamp without them.
func WithSIIKeys(k *caf.Keys) Option { return func(s *Signer) { s.keys = k } }

// WithClock sets the clock for TmstFirma, TSTED and TmstFirmaEnv.
func WithClock(c Clock) Option { return func(s *Signer) { s.clock = c } }

// WithLogger sets the logger (warnings such as a CAF about to expire).
func WithLogger(l *slog.Logger) Option { return func(s *Signer) { s.log = l } }

// NewSigner prepares a Signer for a certificate.
func NewSigner(cert *certs.Certificate, opts ...Option) (*Signer, error) {
	xs, err := xmlsig.NewSigner(cert)
	if err != nil {
		return nil, err
	}
	s := &Signer{cert: cert, xs: xs, clock: systemClock{}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Certificate is the signing certificate.
func (s *Signer) Certificate() *certs.Certificate { return s.cert }

// Signed is a signed DTE.
type Signed struct {
	XML      []byte     // the standalone DTE, ISO-8859-1, with its XML declaration
	Key      dtekey.Key // issuer-type-folio
	ID       string     // Documento ID, F{folio}T{type}
	SignedAt time.Time  // TmstFirma (and TSTED)
	CAF      *caf.CAF   // the CAF that stamped it
	Warnings []Warning  // things to tell the operator, such as a CAF about to expire
}

// Warning is something about a signed document the operator should know.
type Warning struct {
	Code    string // stable, e.g. WarnCAFExpiring
	Message string
}

// Warning codes.
const (
	WarnCAFExpiring = "caf-expiring" // the CAF expires within the warning period
)

// Sign builds the DTE for req, stamps its TED with the CAF that
// authorises its folio (chosen among cafs, which must carry their private
// keys) and signs it standalone. Errors a retry cannot fix are marked
// permanent (errs.IsPermanent) and wrap ErrInvalidRequest, ErrText,
// ErrCertificate, ErrNoSIIKeys or the caf package's errors; their text
// starts with "sign {type} folio {folio}:".
func (s *Signer) Sign(ctx context.Context, req *request.Request, cafs []*caf.CAF) (*Signed, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errs.Permanent(fmt.Errorf("sign: %w: no request", ErrInvalidRequest))
	}
	typ, folio := req.Document.Type, req.Document.Folio
	fail := func(err error) error {
		return errs.Permanent(fmt.Errorf("sign %d folio %d: %w", typ, folio, err))
	}
	now := s.clock.Now()
	if err := s.cert.ValidAt(now); err != nil {
		return nil, fail(fmt.Errorf("%w: %w", ErrCertificate, err))
	}
	buf := make([]byte, 0, 4096+len(req.Lines)*300)
	doc, err := build(req, buf)
	if err != nil {
		return nil, fail(err)
	}
	c, err := caf.Select(cafs, doc.issuer, typ, folio, now)
	if err != nil {
		return nil, fail(err)
	}
	if !c.CanStamp() {
		return nil, fail(caf.ErrNoPrivateKey)
	}
	if s.keys == nil {
		return nil, fail(ErrNoSIIKeys)
	}
	if err := c.VerifySII(s.keys); err != nil {
		return nil, fail(err)
	}
	out := &Signed{ID: doc.id, SignedAt: now, CAF: c}
	out.Key = dtekey.Key{Issuer: doc.issuer, Type: typ, Folio: folio}
	if exp, ok := c.ExpiresAt(); ok && exp.Sub(now) < cafExpiryWarning {
		w := Warning{Code: WarnCAFExpiring, Message: fmt.Sprintf("%s expires on %s: ask the SII for a new CAF", c, exp.Format(time.DateOnly))}
		out.Warnings = append(out.Warnings, w)
		s.log.WarnContext(ctx, w.Message, "rut_emisor", doc.issuer.String(), "tipo_dte", typ, "folio", folio, "caf_expires", exp.Format(time.DateOnly))
	}

	ts := Timestamp(now)
	canon, err := appendTED(doc.canon, doc, typ, folio, req.Document.IssueDate, c, ts)
	if err != nil {
		if errors.Is(err, caf.ErrNoPrivateKey) {
			return nil, fail(err)
		}
		return nil, fmt.Errorf("sign %d folio %d: stamp TED: %w", typ, folio, err)
	}
	canon = append(canon, "<TmstFirma>"+ts+"</TmstFirma></Documento>"...)
	digest := sha1.Sum(canon)

	// SignedInfo: in a standalone DTE only the XMLDSig default namespace
	// is in scope where the Signature sits.
	si := xmlsig.AppendSignedInfo(make([]byte, 0, 700), xmlsig.SignedInfoNS(nil), "#"+doc.id, false, digest[:])
	value, err := s.xs.SignSignedInfo(si)
	if err != nil {
		return nil, fmt.Errorf("sign %d folio %d: %w", typ, folio, err)
	}

	open := openTag(doc.id)
	x := make([]byte, 0, len(xmlDecl)+len(canon)+len(si)+2600)
	x = append(x, xmlDecl...)
	x = append(x, `<DTE xmlns="`+NamespaceSiiDte+`" version="1.0"><Documento ID="`+doc.id+`">`...)
	x = append(x, canon[len(open):]...)
	x = append(x, `<Signature xmlns="`+xmlsig.Namespace+`">`...)
	x = xmlsig.AppendSignedInfo(x, nil, "#"+doc.id, false, digest[:])
	x = append(x, "<SignatureValue>"...)
	x = base64.StdEncoding.AppendEncode(x, value)
	x = append(x, "</SignatureValue>"...)
	x = s.xs.AppendKeyInfo(x)
	x = append(x, "</Signature></DTE>\n"...)
	if out.XML, err = toLatin1(x); err != nil {
		return nil, fail(fmt.Errorf("%w: %v", ErrText, err))
	}
	return out, nil
}

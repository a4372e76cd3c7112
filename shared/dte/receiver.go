package dte

import (
	"context"
	"errors"
	"fmt"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
)

// RUTs that stand for "no RUT": a foreign receiver (55555555-5) and an
// anonymous one (66666666-6). Neither can receive an EnvioDTE.
var (
	rutForeign   = rut.MustParse("55555555-5")
	rutAnonymous = rut.MustParse("66666666-6")
)

// ReceiverEnvelope builds the XML a customer that is itself an electronic
// issuer gets (the intercambio): the signed DTE, untouched, in an EnvioDTE
// addressed to the DTE's receiver (Carátula RutReceptor = RUTRecep), with
// SetDTE signed in place by this Signer's certificate. res is the
// issuer's SII resolution (FchResol, NroResol), as in the envelope sent to
// the SII. signed is one standalone DTE, as Sign writes it. Problems are
// permanent errors wrapping ErrNotDTE or ErrEnvelope (or those of
// Envelope).
func (s *Signer) ReceiverEnvelope(ctx context.Context, signed []byte, res request.Resolution) (*Envelope, error) {
	in, err := Inspect(signed)
	if err != nil {
		if !errors.Is(err, ErrNotDTE) {
			err = fmt.Errorf("%w: %w", ErrNotDTE, err)
		}
		return nil, errs.Permanent(fmt.Errorf("receiver envelope: %w", err))
	}
	if in.Kind != KindDTE || len(in.Documents) != 1 {
		return nil, errs.Permanent(fmt.Errorf("receiver envelope: %w: give the signed DTE itself, not an %s", ErrNotDTE, in.Kind))
	}
	d := in.Documents[0]
	to, err := rut.Parse(d.Receiver)
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("receiver envelope: %w: Receptor/RUTRecep %q: %w", ErrNotDTE, d.Receiver, err))
	}
	if to == rutForeign || to == rutAnonymous || to == rut.SII {
		return nil, errs.Permanent(fmt.Errorf("receiver envelope: %w: the receiver %s is not an electronic issuer that can receive an EnvioDTE", ErrEnvelope, to))
	}
	return s.Envelope(ctx, Header{Receiver: to, Resolution: res}, signed)
}

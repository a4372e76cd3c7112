package sii

import (
	"context"

	"github.com/dtecl/pipeline/shared/rut"
)

// Credential is what the client needs from the sender's certificate: the
// personal certificate of someone the SII authorised to send for the
// company. One token is kept per credential (ID).
type Credential interface {
	// RUT of the certificate's owner: DTEUpload's rutSender and
	// QueryEstDte's RutConsultante.
	RUT() rut.RUT
	// ID identifies the certificate in the token cache; a digest of the
	// certificate is a good choice. It must not contain secrets.
	ID() string
	// SignSeed signs the getToken document (<getToken><item><Semilla>…)
	// with an enveloped XMLDSig carrying KeyValue and X509Certificate
	// (docs/sii-protocol.md §1.3) and returns the signed document.
	SignSeed(ctx context.Context, doc []byte) ([]byte, error)
}

// seedDocument is the document the SII wants signed for a token. Element
// names are fixed by the SII; no namespace.
func seedDocument(seed string) []byte {
	return []byte("<getToken><item><Semilla>" + seed + "</Semilla></item></getToken>")
}

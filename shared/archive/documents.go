package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// contentTypeXML is the content type of archived XML: the SII's documents
// are ISO-8859-1 and stored byte for byte.
const contentTypeXML = "application/xml; charset=ISO-8859-1"

// Metadata keys stored with archived objects.
const (
	MetaSHA256  = "sha256"         // hex SHA-256 of the body
	MetaDTEKey  = "dtekey"         // for a signed DTE
	MetaRequest = "request-sha256" // for a signed DTE: the digest of the request it was built from
	// MetaUploadStarted is, for an EnvioDTE, when its upload to the SII
	// began (RFC 3339, UTC): its create-only write is the mark that an
	// upload may be in progress (submit).
	MetaUploadStarted = "upload-started"
)

// Document is an archived XML document.
type Document struct {
	Key    string // object key
	Body   []byte
	Digest string // hex SHA-256 of Body, computed on read
	// RequestDigest is, for a signed DTE, the digest of the request it was
	// built from (stored with it), so that a redelivered request can tell
	// its own document from another request's under the same folio.
	RequestDigest string
	// UploadStarted is, for an EnvioDTE, when its upload began (zero when
	// not recorded).
	UploadStarted time.Time
}

// PutDTE archives the signed DTE of k at DTEObjectKey, only if nothing is
// there yet. On ErrExists (a redelivered message, or another instance that
// got there first) the caller reads the stored document with GetDTE and
// compares digests: the same bytes mean the work is done; different bytes
// mean a second signature of the same folio, which must not be sent.
func (a *Archive) PutDTE(ctx context.Context, k dtekey.Key, signed []byte, requestDigest string) (Document, error) {
	key, err := DTEObjectKey(k)
	if err != nil {
		return Document{}, err
	}
	doc := Document{Key: key, Body: signed, Digest: Digest(signed), RequestDigest: requestDigest}
	meta := map[string]string{MetaSHA256: doc.Digest, MetaDTEKey: k.String(), MetaRequest: requestDigest}
	if err := a.putIfAbsent(ctx, key, signed, PutOptions{ContentType: contentTypeXML, Metadata: meta}); err != nil {
		return Document{}, fmt.Errorf("archive DTE %s: %w", k, err)
	}
	return doc, nil
}

// GetDTE reads the signed DTE of k (ErrNotFound when absent).
func (a *Archive) GetDTE(ctx context.Context, k dtekey.Key) (Document, error) {
	key, err := DTEObjectKey(k)
	if err != nil {
		return Document{}, err
	}
	doc, err := a.GetDocument(ctx, key)
	if err != nil {
		return Document{}, fmt.Errorf("read DTE %s: %w", k, err)
	}
	return doc, nil
}

// DTERequest is the digest of the request the signed DTE of k was built
// from, read from its metadata without its body (ErrNotFound when k has no
// signed DTE): what tells a repeated request from a different one under
// the same folio.
func (a *Archive) DTERequest(ctx context.Context, k dtekey.Key) (string, error) {
	key, err := DTEObjectKey(k)
	if err != nil {
		return "", err
	}
	obj, err := a.store.Head(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read DTE %s: %w", k, err)
	}
	return obj.Metadata[MetaRequest], nil
}

// PutEnvio archives a signed EnvioDTE at EnvioObjectKey(issuer, at,
// envioID), only if absent (ErrExists otherwise). started, when not zero,
// is stored with it (MetaUploadStarted): the moment its upload begins,
// which whoever finds the envelope there reads back (Document.UploadStarted).
func (a *Archive) PutEnvio(ctx context.Context, issuer rut.RUT, at time.Time, envioID string, signed []byte, started time.Time) (Document, error) {
	key, err := EnvioObjectKey(issuer, at, envioID)
	if err != nil {
		return Document{}, err
	}
	doc := Document{Key: key, Body: signed, Digest: Digest(signed)}
	meta := map[string]string{MetaSHA256: doc.Digest}
	if !started.IsZero() {
		doc.UploadStarted = started.UTC()
		meta[MetaUploadStarted] = doc.UploadStarted.Format(time.RFC3339Nano)
	}
	if err := a.putIfAbsent(ctx, key, signed, PutOptions{ContentType: contentTypeXML, Metadata: meta}); err != nil {
		return Document{}, fmt.Errorf("archive EnvioDTE %s: %w", envioID, err)
	}
	return doc, nil
}

// contentTypePDF is the content type of a printed DTE.
const contentTypePDF = "application/pdf"

// PutPDF archives the printed DTE of k at PDFObjectKey, only if absent
// (ErrExists otherwise: a redelivery; read it back with GetDocument).
func (a *Archive) PutPDF(ctx context.Context, k dtekey.Key, pdf []byte) (Document, error) {
	key, err := PDFObjectKey(k)
	if err != nil {
		return Document{}, err
	}
	return a.putArtifact(ctx, k, key, pdf, contentTypePDF, "printed DTE")
}

// PutReceiverEnvelope archives the receiver's EnvioDTE of k at
// ReceiverEnvelopeObjectKey, only if absent (ErrExists otherwise).
func (a *Archive) PutReceiverEnvelope(ctx context.Context, k dtekey.Key, envio []byte) (Document, error) {
	key, err := ReceiverEnvelopeObjectKey(k)
	if err != nil {
		return Document{}, err
	}
	return a.putArtifact(ctx, k, key, envio, contentTypeXML, "receiver EnvioDTE")
}

func (a *Archive) putArtifact(ctx context.Context, k dtekey.Key, key string, body []byte, contentType, what string) (Document, error) {
	doc := Document{Key: key, Body: body, Digest: Digest(body)}
	meta := map[string]string{MetaSHA256: doc.Digest, MetaDTEKey: k.String()}
	if err := a.putIfAbsent(ctx, key, body, PutOptions{ContentType: contentType, Metadata: meta}); err != nil {
		return Document{}, fmt.Errorf("archive %s of %s: %w", what, k, err)
	}
	return doc, nil
}

// GetDocument reads any archived document by its object key, e.g. the
// archive_key or envio_key of a state.
func (a *Archive) GetDocument(ctx context.Context, key string) (Document, error) {
	obj, err := a.store.Get(ctx, key)
	if err != nil {
		return Document{}, err
	}
	doc := Document{Key: key, Body: obj.Body, Digest: Digest(obj.Body), RequestDigest: obj.Metadata[MetaRequest]}
	if v := obj.Metadata[MetaUploadStarted]; v != "" {
		// Unreadable: zero, which its reader takes as "just now" (it then
		// waits a whole grace before taking the upload for lost).
		doc.UploadStarted, _ = time.Parse(time.RFC3339Nano, v)
	}
	return doc, nil
}

// putIfAbsent is a create-only write; on a server that ignores
// If-None-Match it looks first (see WithCapabilities).
func (a *Archive) putIfAbsent(ctx context.Context, key string, body []byte, opts PutOptions) error {
	caps, err := a.caps.forWrite(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	opts.IfNoneMatch = "*"
	if !caps.IfNoneMatch {
		_, err := a.store.Get(ctx, key)
		switch {
		case err == nil:
			return fmt.Errorf("%s: %w", key, ErrExists)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		opts.IfNoneMatch = ""
	}
	_, err = a.put(ctx, key, body, opts)
	return err
}

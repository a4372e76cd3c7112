package sii

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"

	"github.com/dtecl/pipeline/shared/rut"
)

// Envelope is a signed EnvioDTE to upload.
type Envelope struct {
	// Company is the issuing company: rutCompany, the Carátula's RutEmisor.
	Company rut.RUT
	// Sender is rutSender, the Carátula's RutEnvia; zero means the
	// credential's RUT, which is what the SII requires anyway.
	Sender rut.RUT
	// Filename is the archivo part's file name (default "EnvioDTE.xml").
	Filename string
	// XML is the signed EnvioDTE exactly as signed (ISO-8859-1).
	XML []byte
}

// Upload sends an EnvioDTE to DTEUpload and returns the receipt with its
// TrackID. A refused token is renewed and the upload tried once more (the
// SII did not take the file: STATUS 5 comes before reading it). Errors: STATUS
// 1, 2, 6, 7 (schema, with DETAIL), 8 (signature) and 99 (already
// received, errors.Is ErrDuplicate) are permanent; the rest is transient.
func (c *Client) Upload(ctx context.Context, cred Credential, env Envelope) (*Receipt, error) {
	name := env.Filename
	if name == "" {
		name = "EnvioDTE.xml"
	}
	subject := name + " for " + env.Company.String()
	if env.Company.IsZero() {
		return nil, (&Error{Op: OpUpload, Subject: name, Code: "request", Message: "Envelope.Company is required (rutCompany)"}).wrap()
	}
	if len(bytes.TrimSpace(env.XML)) == 0 {
		return nil, (&Error{Op: OpUpload, Subject: subject, Code: "request", Message: "Envelope.XML is empty"}).wrap()
	}
	if base := path.Base(strings.ReplaceAll(name, `\`, "/")); base != name || strings.ContainsAny(name, "\"\r\n") {
		return nil, (&Error{Op: OpUpload, Subject: subject, Code: "request", Message: fmt.Sprintf("Envelope.Filename %q must be a plain file name", name)}).wrap()
	}
	sender := env.Sender
	if sender.IsZero() {
		sender = cred.RUT()
	}
	body, contentType, err := uploadBody(sender, env.Company, name, env.XML)
	if err != nil {
		return nil, (&Error{Op: OpUpload, Subject: subject, Code: "request", Message: "cannot build the multipart body", Err: err}).wrap()
	}
	var rc *Receipt
	err = c.withToken(ctx, cred, func(tok string) *Error {
		a, e := c.post(ctx, OpUpload, c.env.URL(PathUpload), contentType, body, c.uploadTimeout, http.Header{
			"Cookie": {"TOKEN=" + tok},
			"Accept": {"*/*"},
		})
		if e == nil {
			rc, e = parseReceipt(a.status, a.contentType, a.body)
		}
		if e != nil {
			e.Subject = subject
		}
		return e
	})
	if err != nil {
		return nil, err
	}
	c.log.InfoContext(ctx, "sii upload accepted", "track_id", rc.TrackID, "rut_emisor", env.Company.String(), "file", name)
	return rc, nil
}

// uploadBody writes the multipart form with the fields in the order the
// SII's manual gives: rutSender, dvSender, rutCompany, dvCompany, archivo.
func uploadBody(sender, company rut.RUT, filename string, xml []byte) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fields := []struct{ k, v string }{
		{"rutSender", sender.NumberString()},
		{"dvSender", sender.DVString()},
		{"rutCompany", company.NumberString()},
		{"dvCompany", company.DVString()},
	}
	for _, f := range fields {
		if err := w.WriteField(f.k, f.v); err != nil {
			return nil, "", err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="archivo"; filename="`+filename+`"`)
	h.Set("Content-Type", "text/xml")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(xml); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	if b.Len() == 0 {
		return nil, "", errors.New("empty body")
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

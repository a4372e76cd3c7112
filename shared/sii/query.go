package sii

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/rut"
)

// GetUploadStatus asks for the state of an upload (QueryEstUp.getEstUp).
// company is the issuer the upload was made for. Pending states come back
// with Result Pending and no error; EPR is decided by the per-type counts
// (rejected if any document was rejected, objected if any was accepted
// with objections). Token errors (001/002/003) renew the token once;
// ESTADO -11 and other retryable codes are transient errors.
func (c *Client) GetUploadStatus(ctx context.Context, cred Credential, company rut.RUT, trackID string) (*UploadStatus, error) {
	subject := "track " + trackID
	if company.IsZero() {
		return nil, (&Error{Op: OpGetEstUp, Subject: subject, Code: "request", Message: "company RUT is required"}).wrap()
	}
	if trackID == "" || strings.Trim(trackID, "0123456789") != "" {
		return nil, (&Error{Op: OpGetEstUp, Subject: subject, Code: "request", Message: "the TrackID must be a number"}).wrap()
	}
	var st *UploadStatus
	err := c.withToken(ctx, cred, func(tok string) *Error {
		ret, e := c.soapCall(ctx, OpGetEstUp, PathUploadEst, []param{
			{"RutCompania", company.NumberString()},
			{"DvCompania", company.DVString()},
			{"TrackId", trackID},
			{"Token", tok},
		})
		if e == nil {
			st, e = parseEstUp(ret)
		}
		if e != nil {
			e.Subject = subject
		}
		return e
	})
	if err != nil {
		return nil, err
	}
	if st.TrackID == "" {
		st.TrackID = trackID
	}
	return st, nil
}

// DocumentQuery identifies one document for QueryEstDte: the SII answers
// DOK only when every field matches what it received.
type DocumentQuery struct {
	Issuer    rut.RUT // RUTEmisor
	Receiver  rut.RUT // RUTRecep
	Type      int     // TipoDTE
	Folio     int64   // Folio
	IssueDate string  // FchEmis, YYYY-MM-DD (sent as DDMMAAAA)
	Total     int64   // MntTotal
}

// GetDocumentStatus asks for the state of one document
// (QueryEstDte.getEstDte), as the credential's owner. The answer is
// meaningful once the upload that carried the document was processed: the
// SII reports a document it rejected as not received (FAU).
func (c *Client) GetDocumentStatus(ctx context.Context, cred Credential, q DocumentQuery) (*DocumentStatus, error) {
	subject := strconv.Itoa(q.Type) + " folio " + strconv.FormatInt(q.Folio, 10)
	fail := func(msg string) error {
		return (&Error{Op: OpGetEstDte, Subject: subject, Code: "request", Message: msg}).wrap()
	}
	switch {
	case q.Issuer.IsZero():
		return nil, fail("DocumentQuery.Issuer is required")
	case q.Receiver.IsZero():
		return nil, fail("DocumentQuery.Receiver is required")
	case q.Type <= 0:
		return nil, fail("DocumentQuery.Type must be a DTE type such as 33")
	case q.Folio <= 0:
		return nil, fail("DocumentQuery.Folio must be positive")
	case q.Total < 0:
		return nil, fail("DocumentQuery.Total must not be negative")
	}
	d, err := time.Parse(time.DateOnly, q.IssueDate)
	if err != nil {
		return nil, fail("DocumentQuery.IssueDate " + strconv.Quote(q.IssueDate) + " is not a date YYYY-MM-DD")
	}
	consultante := cred.RUT()
	var st *DocumentStatus
	err = c.withToken(ctx, cred, func(tok string) *Error {
		ret, e := c.soapCall(ctx, OpGetEstDte, PathDocEst, []param{
			{"RutConsultante", consultante.NumberString()},
			{"DvConsultante", consultante.DVString()},
			{"RutCompania", q.Issuer.NumberString()},
			{"DvCompania", q.Issuer.DVString()},
			{"RutReceptor", q.Receiver.NumberString()},
			{"DvReceptor", q.Receiver.DVString()},
			{"TipoDte", strconv.Itoa(q.Type)},
			{"FolioDte", strconv.FormatInt(q.Folio, 10)},
			{"FechaEmisionDte", d.Format("02012006")},
			{"MontoDte", strconv.FormatInt(q.Total, 10)},
			{"Token", tok},
		})
		if e == nil {
			st, e = parseEstDte(ret)
		}
		if e != nil {
			e.Subject = subject
		}
		return e
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

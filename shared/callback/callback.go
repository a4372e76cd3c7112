// Package callback tells Odoo about a document's progress: the signed POST
// of docs/design.md's "Odoo callback" contract, and the mapping from
// pipeline events to the statuses Odoo shows.
package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/webhook"
)

// Statuses Odoo knows.
const (
	StatusQueued   = "queued"
	StatusSigned   = "signed"
	StatusSent     = "sent"
	StatusAccepted = "accepted"
	StatusObjected = "objected"
	StatusRejected = "rejected"
	StatusError    = "error"
	// StatusRetrying: a stage failed transiently and retries by itself
	// later (NextAttemptAt); not final, and nothing for the user to do.
	StatusRetrying = "retrying"
)

// HeaderDatabase picks the Odoo database for the public callback route.
const HeaderDatabase = "X-Odoo-Database"

// HeaderIdempotencyKey carries the callback's event id. Odoo applies an
// event once however often it comes, so the POST is idempotent; saying so
// lets Go's HTTP transport send it again at once on a fresh connection
// when a kept-alive one that Odoo had just closed fails it.
const HeaderIdempotencyKey = "Idempotency-Key"

// Payload is the callback body.
type Payload struct {
	EventID    string `json:"event_id"`
	DTEKey     string `json:"dtekey"`
	MoveID     int64  `json:"move_id"`
	Status     string `json:"status"`
	TrackID    string `json:"track_id"`
	SIIState   string `json:"sii_state"`
	Message    string `json:"message"`
	OccurredAt string `json:"occurred_at"` // RFC 3339, UTC
	// TraceID is the document's trace (32 lowercase hex digits), from the
	// event's traceparent; "" when it has none. Odoo shows it, so that a
	// user's question leads to the trace of the document.
	TraceID string `json:"trace_id"`
	// NextAttemptAt is, for retrying, about when the next attempt comes
	// (RFC 3339, UTC); "" for every other status.
	NextAttemptAt string `json:"next_attempt_at"`
	// Attachments are, on accepted and objected, what the customer
	// receives (docs/design.md, "What the customer receives"): the printed
	// DTE and, for a receiver with a DTE exchange address, its EnvioDTE.
	// Absent for every other status.
	Attachments []Attachment `json:"attachments,omitempty"`
	// AttachmentsError says, in English for an operator, why an accepted
	// document comes without (some of) its attachments; "" otherwise.
	AttachmentsError string `json:"attachments_error,omitempty"`
}

// Kinds of Attachment.
const (
	AttachmentPDF              = "pdf"               // the printed DTE
	AttachmentReceiverEnvelope = "receiver_envelope" // the EnvioDTE addressed to the receiver
)

// Attachment is one file of an accepted document, inline.
type Attachment struct {
	Kind       string `json:"kind"`        // AttachmentPDF or AttachmentReceiverEnvelope
	Name       string `json:"name"`        // a file name, e.g. 76086428-5-33-1042.pdf
	MimeType   string `json:"mimetype"`    // application/pdf, application/xml
	ArchiveKey string `json:"archive_key"` // where the archive keeps it
	SHA256     string `json:"sha256"`      // hex SHA-256 of the file
	Size       int    `json:"size"`        // bytes of the file
	// Data is the file, base64 (standard alphabet, padded); "" when the
	// attachments were over MaxAttachmentBytes (AttachmentsError says so).
	Data string `json:"data,omitempty"`
}

// MaxAttachmentBytes bounds the files one callback carries inline (before
// base64): a printed DTE is tens of KB, the 60-line one about 60 KB, an
// EnvioDTE around 10 KB. The addon's body limit (2 MiB) leaves room for
// them in base64 (4/3) and the rest of the body.
const MaxAttachmentBytes = 1 << 20

// Client posts callbacks to one Odoo.
type Client struct {
	// URL of the callback route, e.g. https://erp.example.cl/api/dte/callback.
	URL string
	// Secret signs the body (X-DTE-Signature).
	Secret []byte
	// HTTP is the client used (default: http.DefaultClient).
	HTTP *http.Client
	// Timeout bounds one POST (default 10 s).
	Timeout time.Duration
	// Now is the clock for signatures (default time.Now).
	Now func() time.Time
}

// RejectedError is Odoo refusing a callback for good: the move does not
// exist (404), the dtekey is not the move's (409), or the body is invalid
// (400). Sending it again cannot help.
type RejectedError struct {
	Status int
	Body   string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("odoo refused the callback: HTTP %d: %s", e.Status, e.Body)
}

// Send posts p to Odoo's database db, once. The error is permanent
// (errs.IsPermanent, *RejectedError) when Odoo refused the callback,
// transient otherwise. There is no retry loop here: a transient failure is
// retried by the platform's deliveries (3 in all, with backoff), the one
// retry policy of the pipeline.
func (c *Client) Send(ctx context.Context, db string, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return errs.Permanent(fmt.Errorf("encode callback: %w", err))
	}
	if err := c.post(ctx, db, p.EventID, body); err != nil {
		return fmt.Errorf("callback %s for %s: %w", p.Status, p.DTEKey, err)
	}
	return nil
}

func (c *Client) post(ctx context.Context, db, eventID string, body []byte) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return errs.Permanent(fmt.Errorf("callback URL: %w", err))
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.Header, webhook.Sign(c.Secret, now(), body))
	if db != "" {
		req.Header.Set(HeaderDatabase, db)
	}
	if eventID != "" {
		req.Header.Set(HeaderIdempotencyKey, eventID)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("post to odoo: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusBadRequest:
		return errs.Permanent(&RejectedError{Status: resp.StatusCode, Body: string(bytes.TrimSpace(answer))})
	default:
		// 401 means the callback secrets differ: a configuration error
		// that an operator fixes, after which a replay succeeds; 5xx and
		// anything else may pass later.
		return fmt.Errorf("odoo answered HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
}

// IsRejected reports whether err is Odoo refusing the callback for good.
func IsRejected(err error) bool {
	var r *RejectedError
	return errors.As(err, &r)
}

// Package enqueue is the door through which Odoo hands an invoice to the
// pipeline: an HTTP handler that takes a signed DTE request, checks it (the
// addon's HMAC, the request's JSON Schema and the SII's rules) and answers
// 202 only once the broker confirmed cl.dte.requested (README, "The DTE
// request"). Unlike the other stages it is not fed by events: it makes the
// first one.
package enqueue

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/webhook"
)

// Publisher is what enqueue needs from the broker: a publish that returns
// only once the broker confirmed the event (bus.Publisher).
type Publisher interface {
	PublishEvent(ctx context.Context, e events.Event) error
}

// Archive is what enqueue reads from the archive: the request a folio's
// signed DTE was built from (its metadata), and, only to tell a refused
// sender where that document stands, its state.
type Archive interface {
	DTERequest(ctx context.Context, k dtekey.Key) (string, error)
	LoadState(ctx context.Context, k dtekey.Key) (archive.State, string, error)
}

// Handler is the enqueue function: POST / with a DTE request. Now is the
// clock of the signature window and of the event's time.
type Handler struct {
	Validator      *request.Validator
	Publisher      Publisher
	Secret         []byte
	Window         time.Duration
	PublishTimeout time.Duration
	MaxBody        int64
	Now            func() time.Time
	Logger         *slog.Logger
	// Archive, when set, lets enqueue refuse at once (409) a different
	// request for a folio the archive already holds a signed DTE for (one
	// HEAD of the DTE, a 404 for a new folio);
	// ArchiveTimeout bounds that read. When the archive cannot answer, the
	// request is queued and sign refuses it (Odoo is told `error`).
	Archive        Archive
	ArchiveTimeout time.Duration

	// inflight publishes each identical request once while it is being
	// published: concurrent copies (the same invoice sent many times at
	// once) share the first one's confirm and answer.
	inflight singleflight.Group
	// arrived, in tests, is told each request that is about to publish.
	arrived func()
}

// Conflict is the body of a 409 answer: the folio is already signed from
// another request.
type Conflict struct {
	Problem
	DTEKey string `json:"dtekey"`
	// DocumentStatus is the document's current status, one of the
	// callback's (docs/design.md, "Odoo callback"); "status" is the HTTP
	// status, as in every problem document.
	DocumentStatus string `json:"document_status"`
}

// Accepted is the body of a 202 answer.
type Accepted struct {
	DTEKey  string `json:"dtekey"`
	EventID string `json:"event_id"`
	Status  string `json:"status"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.Now()
	status, key, detail := h.handle(w, r)
	h.Logger.LogAttrs(r.Context(), levelFor(status), "enqueue",
		slog.Int("status", status), slog.String("dtekey", key),
		slog.String("detail", detail), slog.Duration("took", h.Now().Sub(start)))
}

// handle answers the request and returns what the log line needs.
func (h *Handler) handle(w http.ResponseWriter, r *http.Request) (status int, key, detail string) {
	if r.URL.Path != "/" {
		return problem(w, http.StatusNotFound, "not-found", "Not found", "POST DTE requests to /", nil), "", r.URL.Path
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return problem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "use POST", nil), "", r.Method
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return problem(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"the DTE request must be sent as Content-Type: application/json", nil), "", r.Header.Get("Content-Type")
	}
	if r.ContentLength > h.MaxBody {
		return tooLarge(w, h.MaxBody), "", strconv.FormatInt(r.ContentLength, 10) + " bytes"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(w, h.MaxBody), "", "body over the limit"
		}
		return problem(w, http.StatusBadRequest, "unreadable-body", "Unreadable body", err.Error(), nil), "", err.Error()
	}
	if err := webhook.Verify(h.Secret, r.Header.Get(webhook.Header), body, h.Now(), h.Window); err != nil {
		return problem(w, http.StatusUnauthorized, "bad-signature", "Bad signature",
			"the "+webhook.Header+" header does not authenticate this body: "+err.Error(), nil), "", err.Error()
	}
	req, err := h.Validator.Parse(body)
	if err != nil {
		var ve *request.ValidationError
		if errors.As(err, &ve) {
			return problem(w, http.StatusBadRequest, "invalid-request", "Invalid DTE request",
				fmt.Sprintf("%d problem(s) in the request; see errors", len(ve.Violations)), ve.Violations), "", ve.Error()
		}
		return problem(w, http.StatusInternalServerError, "internal", "Internal error", "could not validate the request", nil), "", err.Error()
	}
	k := req.Key()
	if status, detail, ok := h.folioUsed(r.Context(), w, k, req); ok {
		return status, k.String(), detail
	}
	e, err := h.event(r, k, body)
	if err != nil {
		return problem(w, http.StatusInternalServerError, "internal", "Internal error", "could not build the event", nil), k.String(), err.Error()
	}
	if err := h.publishOnce(r.Context(), e); err != nil {
		w.Header().Set("Retry-After", "5")
		return problem(w, http.StatusServiceUnavailable, "broker-unavailable", "Queue unavailable",
			"the request was not queued; send it again later", nil), k.String(), err.Error()
	}
	writeJSON(w, http.StatusAccepted, "application/json", Accepted{DTEKey: k.String(), EventID: e.ID(), Status: "queued"})
	return http.StatusAccepted, k.String(), e.ID()
}

// publishOnce publishes e and waits for the broker's confirm; identical
// requests that arrive while it is being published share its outcome
// instead of publishing copies (the event id derives from the body). A
// copy that comes later is published again: downstream recognises it
// (docs/design.md, "One settlement per document").
func (h *Handler) publishOnce(ctx context.Context, e events.Event) error {
	if h.arrived != nil {
		h.arrived()
	}
	_, err, _ := h.inflight.Do(e.ID(), func() (any, error) {
		// Not the first caller's request context: a caller that hangs up
		// must not fail the others that wait on the same publish.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.PublishTimeout)
		defer cancel()
		return nil, h.Publisher.PublishEvent(pctx, e)
	})
	return err
}

// folioUsed answers 409 when the archive already holds a DTE for this
// folio signed from a different request: nothing would be issued, and
// only this answer tells the sender so at once. ok is false when the
// request may go on (the folio is free, or is this same request's, or the
// archive could not answer in time: then sign decides).
func (h *Handler) folioUsed(ctx context.Context, w http.ResponseWriter, k dtekey.Key, req *request.Request) (status int, detail string, ok bool) {
	if h.Archive == nil {
		return 0, "", false
	}
	digest, err := request.Digest(req)
	if err != nil {
		return 0, "", false
	}
	actx, cancel := context.WithTimeout(ctx, h.ArchiveTimeout)
	defer cancel()
	signedFrom, err := h.Archive.DTERequest(actx, k)
	switch {
	case errors.Is(err, archive.ErrNotFound):
		return 0, "", false
	case err != nil:
		h.Logger.Warn("enqueue: could not ask the archive whether the folio is used; queued anyway (sign checks it)", "dtekey", k.String(), "error", err)
		return 0, "", false
	case signedFrom == "" || signedFrom == digest:
		return 0, "", false
	}
	// Refused: where the document stands, for the sender. Signed and not
	// yet uploaded has no state (sign writes none).
	docStatus := archive.StatusSigned
	if st, _, err := h.Archive.LoadState(actx, k); err == nil && st.Status != "" {
		docStatus = st.Status
	}
	c := Conflict{
		Problem: Problem{
			Type: problemTypeBase + "folio-used", Title: "Folio already used", Status: http.StatusConflict,
			Detail: fmt.Sprintf("the archive holds a DTE for %s signed from a different request (its status: %s); nothing was queued. Issue this document with a new folio", k, docStatus),
		},
		DTEKey: k.String(), DocumentStatus: docStatus,
	}
	writeJSON(w, http.StatusConflict, "application/problem+json", c)
	return http.StatusConflict, "folio already used (" + docStatus + ")", true
}

// event builds cl.dte.requested. Its id derives from the body, so the same
// request sent twice is the same event; its data is the body as received.
func (h *Handler) event(r *http.Request, k dtekey.Key, body []byte) (events.Event, error) {
	sum := sha256.Sum256(body)
	e, err := events.New(events.ID(k, "requested", hex.EncodeToString(sum[:])), events.TypeRequested, events.SourceEnqueue, k, body)
	if err != nil {
		return e, err
	}
	e.SetTime(h.Now().UTC())
	e.SetExtension(events.ExtTraceparent, traceparent(r.Header.Get("traceparent")))
	return e, nil
}

var traceparentRE = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// traceparent keeps the caller's W3C trace context or starts a new trace,
// so that one trace id follows the document from Odoo to the callback.
func traceparent(in string) string {
	if traceparentRE.MatchString(in) {
		return in
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

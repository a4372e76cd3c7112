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
	e, err := h.event(r, k, body)
	if err != nil {
		return problem(w, http.StatusInternalServerError, "internal", "Internal error", "could not build the event", nil), k.String(), err.Error()
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.PublishTimeout)
	defer cancel()
	if err := h.Publisher.PublishEvent(ctx, e); err != nil {
		w.Header().Set("Retry-After", "5")
		return problem(w, http.StatusServiceUnavailable, "broker-unavailable", "Queue unavailable",
			"the request was not queued; send it again later", nil), k.String(), err.Error()
	}
	writeJSON(w, http.StatusAccepted, "application/json", Accepted{DTEKey: k.String(), EventID: e.ID(), Status: "queued"})
	return http.StatusAccepted, k.String(), e.ID()
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

// Package delivery serves a function's Handle over HTTP as CloudEvents, the
// same way on Knative (source or broker), OpenFaaS and the local runner
// (docs/design.md, "Delivery: one handler, three platforms").
//
// The HTTP status carries the retry decision:
//   - 2xx: done. The next event was published and confirmed (REPLY_MODE
//     publish) or is in the response (REPLY_MODE reply). A permanent failure
//     is also 2xx: it becomes cl.dte.failed, which tells Odoo at once.
//   - 503: transient; the platform retries with backoff, then dead-letters.
//   - 400 (not a CloudEvent), 422 (an event this function does not take) and
//     500 (a bug: the handler panicked): not retried; dead-lettered at once.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

// Handler is a function's core, shaped like a Knative Function's Handle: it
// returns the next event (or nil) and an error that errs classifies.
type Handler func(ctx context.Context, e events.Event) (*events.Event, error)

// Publisher publishes an event and returns once the broker confirmed it.
type Publisher interface {
	PublishEvent(ctx context.Context, e events.Event) error
}

// Reply modes.
const (
	// ModePublish publishes the next event to the broker, then answers 2xx
	// (Knative RabbitmqSource, OpenFaaS connector, local dispatcher).
	ModePublish = "publish"
	// ModeReply returns the next event in the HTTP response (Knative broker).
	ModeReply = "reply"
)

// HeaderAttempt tells a function which delivery attempt this is (1-based).
// The local dispatcher sets it; other platforms may not.
const HeaderAttempt = "X-DTE-Attempt"

// Config configures the HTTP handler around a Handler.
type Config struct {
	// Stage names the function in cl.dte.failed events and logs: sign,
	// submit, notify.
	Stage string
	// Types lists the event types the function takes; any other is refused
	// with 422. Empty accepts every type.
	Types []string
	// Mode is ModePublish (default) or ModeReply.
	Mode string
	// Publisher publishes next events in ModePublish. A function that never
	// returns a next event (notify) may leave it nil.
	Publisher Publisher
	// Timeout bounds one event's handling (default 60 s).
	Timeout time.Duration
	// PublishTimeout bounds the wait for the broker's confirm (default 10 s).
	PublishTimeout time.Duration
	// Logger gets one line per event handled.
	Logger *slog.Logger
	// DeadLetterPermanent dead-letters permanent failures (422) instead of
	// turning them into cl.dte.failed. notify sets it: a failed event would
	// come back to notify itself.
	DeadLetterPermanent bool
}

// New returns the HTTP handler serving h.
func New(h Handler, cfg Config) (http.Handler, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModePublish
	}
	if cfg.Mode != ModePublish && cfg.Mode != ModeReply {
		return nil, fmt.Errorf("delivery: REPLY_MODE %q: want %s or %s", cfg.Mode, ModePublish, ModeReply)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &server{h: h, cfg: cfg}, nil
}

type server struct {
	h   Handler
	cfg Config
}

// outcome is what the log line says about one event.
type outcome struct {
	status int
	result string // ok, permanent, transient, poison, bug
	next   string
	err    error
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a CloudEvent", http.StatusMethodNotAllowed)
		return
	}
	e, err := binding.ToEvent(r.Context(), cehttp.NewMessageFromHttpRequest(r))
	if err != nil {
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		s.log(r.Context(), nil, outcome{status: 400, result: "poison", err: err}, start)
		return
	}
	o := s.serve(r.Context(), w, *e, attempt(r))
	s.log(r.Context(), e, o, start)
}

func (s *server) serve(ctx context.Context, w http.ResponseWriter, e events.Event, attempt int) (o outcome) {
	if len(s.cfg.Types) > 0 && !slices.Contains(s.cfg.Types, e.Type()) {
		http.Error(w, fmt.Sprintf("%s does not take events of type %q", s.cfg.Stage, e.Type()), http.StatusUnprocessableEntity)
		return outcome{status: 422, result: "poison", err: fmt.Errorf("unexpected type %q", e.Type())}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	next, err := s.call(ctx, e)
	switch {
	case err == nil:
		o = outcome{result: "ok"}
	case errors.Is(err, errPanic):
		http.Error(w, "internal error", http.StatusInternalServerError)
		return outcome{status: 500, result: "bug", err: err}
	case errs.IsPermanent(err) && s.cfg.DeadLetterPermanent:
		http.Error(w, "permanent failure: "+err.Error(), http.StatusUnprocessableEntity)
		return outcome{status: 422, result: "permanent", err: err}
	case errs.IsPermanent(err):
		failed, ferr := FailedEvent(e, s.cfg.Stage, err, attempt)
		if ferr != nil {
			http.Error(w, "permanent failure and no document to report it on: "+err.Error(), http.StatusUnprocessableEntity)
			return outcome{status: 422, result: "poison", err: err}
		}
		next, o = &failed, outcome{result: "permanent", err: err}
	default:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "transient failure: "+err.Error(), http.StatusServiceUnavailable)
		return outcome{status: 503, result: "transient", err: err}
	}
	if next == nil {
		w.WriteHeader(http.StatusOK)
		o.status = 200
		return o
	}
	if tp, ok := e.Extensions()[events.ExtTraceparent]; ok {
		if _, has := next.Extensions()[events.ExtTraceparent]; !has {
			next.SetExtension(events.ExtTraceparent, tp)
		}
	}
	o.next = next.Type()
	if s.cfg.Mode == ModeReply {
		if err := cehttp.WriteResponseWriter(ctx, binding.ToMessage(next), http.StatusOK, w); err != nil {
			o.err = errors.Join(o.err, fmt.Errorf("write reply: %w", err))
		}
		o.status = 200
		return o
	}
	if s.cfg.Publisher == nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return outcome{status: 500, result: "bug", next: next.Type(), err: errors.New("a next event but no publisher configured")}
	}
	pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PublishTimeout)
	defer pcancel()
	if err := s.cfg.Publisher.PublishEvent(pctx, *next); err != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "could not publish "+next.Type()+": "+err.Error(), http.StatusServiceUnavailable)
		return outcome{status: 503, result: "transient", next: next.Type(), err: errors.Join(o.err, fmt.Errorf("publish %s: %w", next.Type(), err))}
	}
	w.WriteHeader(http.StatusOK)
	o.status = 200
	return o
}

var errPanic = errors.New("handler panicked")

// call runs the handler, turning a panic into an error so that one bad
// message cannot take the process (and every in-flight message) down.
func (s *server) call(ctx context.Context, e events.Event) (next *events.Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "ce_id", e.ID())
			next, err = nil, fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return s.h(ctx, e)
}

func (s *server) log(ctx context.Context, e *events.Event, o outcome, start time.Time) {
	attrs := []slog.Attr{
		slog.String("stage", s.cfg.Stage),
		slog.Int("status", o.status),
		slog.String("result", o.result),
		slog.Duration("took", time.Since(start)),
	}
	if e != nil {
		attrs = append(attrs, slog.String("ce_id", e.ID()), slog.String("ce_type", e.Type()))
		if k, ok := e.Extensions()[events.ExtDTEKey].(string); ok {
			attrs = append(attrs, slog.String("dtekey", k))
		}
	}
	if o.next != "" {
		attrs = append(attrs, slog.String("next", o.next))
	}
	level := slog.LevelInfo
	if o.err != nil {
		attrs = append(attrs, slog.String("error", o.err.Error()))
		level = slog.LevelWarn
		if o.result == "bug" || o.result == "poison" {
			level = slog.LevelError
		}
	}
	s.cfg.Logger.LogAttrs(ctx, level, "event", attrs...)
}

func attempt(r *http.Request) int {
	if n, err := strconv.Atoi(r.Header.Get(HeaderAttempt)); err == nil && n > 0 {
		return n
	}
	return 1
}

// FailedEvent builds the cl.dte.failed event that reports err on the
// document of e. It fails when e names no document (no dtekey).
func FailedEvent(e events.Event, stage string, err error, attempts int) (events.Event, error) {
	key, kerr := events.Key(e)
	if kerr != nil {
		return events.Event{}, kerr
	}
	data := events.Failed{
		DTEKey: key.String(), Stage: stage, Reason: err.Error(), Attempts: attempts,
		Retryable: !errs.IsPermanent(err), Odoo: OdooOf(e),
	}
	return events.New(events.ID(key, "failed", stage, e.ID()), events.TypeFailed, "/dte/"+stage, key, data)
}

// OdooOf reads the Odoo correlation that every event's data carries at
// "odoo" (the request itself has it at the top level too).
func OdooOf(e events.Event) request.Odoo {
	var v struct {
		Odoo request.Odoo `json:"odoo"`
	}
	_ = json.Unmarshal(e.Data(), &v)
	return v.Odoo
}

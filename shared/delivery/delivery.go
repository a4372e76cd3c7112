// Package delivery serves a stage over HTTP as CloudEvents, the same way on
// Knative (source or broker), OpenFaaS and the local dispatcher
// (docs/design.md, "Delivery: one handler, three platforms"), and publishes
// what the stage emits.
//
// The HTTP status carries the retry decision:
//   - 2xx: done. Every event the stage emitted was confirmed by the broker
//     (REPLY_MODE publish), or the one it emitted at once is in the
//     response and the delayed ones were confirmed (REPLY_MODE reply). A
//     permanent failure is also 2xx: it becomes cl.dte.failed, which tells
//     Odoo at once.
//     A transient failure is also 2xx when the function retries it itself
//     (Config.Retry, docs/design.md "Retries"): the event was published
//     again, later, to the function's own queue, with its retry history.
//   - 503: transient; the platform retries with backoff, then dead-letters.
//     (With Config.Retry: only when the retry itself could not be
//     published.)
//   - 400 (not a CloudEvent) and 422 (an event this function does not
//     take, a permanent failure with no document to report it on, or a
//     transient one whose retry budget ran out): no retry can help, and no
//     platform retries them (the Knative broker retries only 404, 408, 409,
//     429 and 5xx); they are dead-lettered.
//   - 500 (a bug: the handler panicked, or emitted what this mode cannot
//     carry): the Knative source and our dispatcher dead-letter it at once;
//     the Knative broker retries it like a 503 first.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.opentelemetry.io/otel/propagation"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage"
)

// Publisher publishes an event and returns once the broker confirmed it
// (bus.Publisher).
type Publisher interface {
	// PublishEventTo publishes e to the pipeline's exchange with routing
	// key (its type, or a queue name to reach that queue only), after
	// delay when it is positive, and returns once the broker confirmed it.
	PublishEventTo(ctx context.Context, key string, e events.Event, delay time.Duration) error
}

// Reply modes.
const (
	// ModePublish publishes every emitted event to the broker, then
	// answers 2xx (Knative RabbitmqSource, OpenFaaS connector, local
	// dispatcher: they ignore the HTTP response).
	ModePublish = "publish"
	// ModeReply returns the event emitted at once in the HTTP response
	// (Knative broker, which routes it). The broker cannot delay a reply,
	// so delayed and redelivered events are still published, and confirmed,
	// before the answer.
	ModeReply = "reply"
)

// HeaderAttempt tells a function which delivery attempt this is (1-based).
// The local dispatcher sets it; other platforms may not.
const HeaderAttempt = "X-DTE-Attempt"

// Config configures the HTTP handler around a stage.
type Config struct {
	// Stage names the function in cl.dte.failed events and logs: sign,
	// submit, notify.
	Stage string
	// Types lists the event types the function takes; any other is refused
	// with 422. Empty accepts every type.
	Types []string
	// Queue is the function's own queue, where events emitted with
	// Redeliver go. A stage that never redelivers may leave it empty.
	Queue string
	// Mode is ModePublish (default) or ModeReply.
	Mode string
	// Publisher publishes emitted events (in ModeReply, the delayed and
	// redelivered ones). A function that never emits (notify) may leave it
	// nil.
	Publisher Publisher
	// Timeout bounds one event's handling (default 60 s). The work runs
	// under its own context, detached from the caller's connection: a
	// platform that hangs up does not cancel an upload half-way, and the
	// next delivery finds the work done.
	Timeout time.Duration
	// PublishTimeout bounds the wait for each of the broker's confirms
	// (default 10 s).
	PublishTimeout time.Duration
	// Logger gets one line per event handled.
	Logger *slog.Logger
	// DeadLetterPermanent dead-letters permanent failures (422) instead of
	// turning them into cl.dte.failed. notify sets it: a failed event would
	// come back to notify itself.
	DeadLetterPermanent bool
	// Retry retries transient failures in two tiers through the delay
	// queues (zero: 503, the platform retries).
	Retry Retry
	// Stages names the stage in reports for some event types, when it is
	// not Stage (submit's status checks: "check").
	Stages map[string]string
	// Now is the clock of the retry budget (default time.Now).
	Now func() time.Time
	// Observer watches each request (metrics, traces). Optional.
	Observer Observer
}

// Observer watches the requests a function serves. Begin is called once
// the body was read (e is nil when it is not a CloudEvent) and returns the
// context the event is handled, published and logged in (a trace span);
// end is called once with the outcome, after the answer was written.
type Observer interface {
	Begin(r *http.Request, e *events.Event) (ctx context.Context, end func(Outcome))
}

// Outcome is what became of one request, for an Observer.
type Outcome struct {
	Status int // the HTTP status answered
	// Result is ok, permanent, retry (fast tier), retrying (slow tier),
	// exhausted (retry budget spent), transient, poison or bug.
	Result string
	Err    error
	// Emits are the events published or replied (2xx only).
	Emits []stage.Emit
}

// New returns the HTTP handler serving h.
func New(h stage.Handler, cfg Config) (http.Handler, error) {
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Retry.Validate(); err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	if cfg.Retry.Enabled() && (cfg.Queue == "" || cfg.Publisher == nil) {
		return nil, fmt.Errorf("delivery: %s retries through its own queue: it needs Queue and Publisher", cfg.Stage)
	}
	return &server{h: h, cfg: cfg}, nil
}

type server struct {
	h   stage.Handler
	cfg Config
}

// outcome is what the log line says about one event.
type outcome struct {
	status int
	result string // ok, permanent, retry, retrying, exhausted, transient, poison, bug
	next   string
	err    error
	emits  []stage.Emit
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
		_, end := s.observe(r, nil)
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		o := outcome{status: 400, result: "poison", err: err}
		s.log(r.Context(), nil, o, start)
		end(Outcome{Status: o.status, Result: o.result, Err: o.err})
		return
	}
	ctx, end := s.observe(r, e)
	o := s.serve(ctx, w, *e, attempt(r))
	s.log(ctx, e, o, start)
	end(Outcome{Status: o.status, Result: o.result, Err: o.err, Emits: o.emits})
}

// observe starts watching a request with the Observer, if any.
func (s *server) observe(r *http.Request, e *events.Event) (context.Context, func(Outcome)) {
	if s.cfg.Observer == nil {
		return r.Context(), func(Outcome) {}
	}
	return s.cfg.Observer.Begin(r, e)
}

func (s *server) serve(ctx context.Context, w http.ResponseWriter, e events.Event, attempt int) (o outcome) {
	if len(s.cfg.Types) > 0 && !slices.Contains(s.cfg.Types, e.Type()) {
		http.Error(w, fmt.Sprintf("%s does not take events of type %q", s.cfg.Stage, e.Type()), http.StatusUnprocessableEntity)
		return outcome{status: 422, result: "poison", err: fmt.Errorf("unexpected type %q", e.Type())}
	}
	// The work runs under its own context: the caller hanging up (a
	// dispatcher killed, a source that timed out) must not cancel an upload
	// the SII may already have received before its TrackID is recorded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if failures, _ := events.RetryOf(e); failures+1 > attempt {
		attempt = failures + 1
	}
	ctx = stage.WithAttempt(ctx, attempt)
	stageName := s.stageName(e)
	emits, err := s.call(ctx, e)
	switch {
	case err == nil:
		o = outcome{result: "ok"}
		forgetRetries(emits)
	case errors.Is(err, errPanic):
		http.Error(w, "internal error", http.StatusInternalServerError)
		return outcome{status: 500, result: "bug", err: err}
	case errs.IsPermanent(err) && s.cfg.DeadLetterPermanent:
		http.Error(w, "permanent failure: "+err.Error(), http.StatusUnprocessableEntity)
		return outcome{status: 422, result: "permanent", err: err}
	case errs.IsPermanent(err):
		failed, ferr := FailedEvent(e, stageName, err, attempt)
		if ferr != nil {
			http.Error(w, "permanent failure and no document to report it on: "+err.Error(), http.StatusUnprocessableEntity)
			return outcome{status: 422, result: "poison", err: err}
		}
		emits, o = []stage.Emit{stage.Now(failed)}, outcome{result: "permanent", err: err}
	default:
		var answered bool
		if emits, o, answered = s.transient(w, e, stageName, err); answered {
			return o
		}
	}
	propagateTrace(ctx, e, emits)
	o.next, o.emits = describe(emits), emits
	reply, publish, err := s.split(emits)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return outcome{status: 500, result: "bug", next: o.next, err: errors.Join(o.err, err)}
	}
	for _, em := range publish {
		if err := s.publish(ctx, em); err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "could not publish "+em.Event.Type()+": "+err.Error(), http.StatusServiceUnavailable)
			return outcome{status: 503, result: "transient", next: o.next, err: errors.Join(o.err, err)}
		}
	}
	o.status = http.StatusOK
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return o
	}
	if err := cehttp.WriteResponseWriter(ctx, binding.ToMessage(reply), http.StatusOK, w); err != nil {
		o.err = errors.Join(o.err, fmt.Errorf("write reply: %w", err))
	}
	return o
}

// stageName names the stage that handles e, in reports.
func (s *server) stageName(e events.Event) string {
	if n, ok := s.cfg.Stages[e.Type()]; ok {
		return n
	}
	return s.cfg.Stage
}

// forgetRetries drops the retry history from what a stage emitted after it
// succeeded (its own event again, waiting for something, included): the
// failures it counted are over.
func forgetRetries(emits []stage.Emit) {
	for i := range emits {
		if events.HasRetry(emits[i].Event) {
			emits[i].Event = events.WithoutRetry(emits[i].Event)
		}
	}
}

// split decides what goes in the reply and what is published: in
// ModeReply the one event emitted at once is the reply (the broker routes
// it) and the rest is published; in ModePublish everything is published.
func (s *server) split(emits []stage.Emit) (reply *events.Event, publish []stage.Emit, err error) {
	for i, em := range emits {
		if s.cfg.Mode == ModeReply && em.After <= 0 && !em.Redeliver {
			if reply != nil {
				return nil, nil, fmt.Errorf("%s emitted %s and %s at once: a reply carries one event", s.cfg.Stage, reply.Type(), em.Event.Type())
			}
			reply = &emits[i].Event
			continue
		}
		if em.Redeliver && s.cfg.Queue == "" {
			return nil, nil, fmt.Errorf("%s redelivers %s but has no queue configured", s.cfg.Stage, em.Event.Type())
		}
		publish = append(publish, em)
	}
	if len(publish) > 0 && s.cfg.Publisher == nil {
		return nil, nil, fmt.Errorf("%s emitted %d event(s) to publish but has no publisher configured", s.cfg.Stage, len(publish))
	}
	return reply, publish, nil
}

// publish sends one emitted event and waits for the broker's confirm. It
// runs detached from the request: once the stage has done its work, a
// client that went away must not keep its events from being confirmed.
func (s *server) publish(ctx context.Context, em stage.Emit) error {
	key := em.Event.Type()
	if em.Redeliver {
		key = s.cfg.Queue
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PublishTimeout)
	defer cancel()
	if err := s.cfg.Publisher.PublishEventTo(pctx, key, em.Event, em.After); err != nil {
		return fmt.Errorf("publish %s to %s: %w", em.Event.Type(), key, err)
	}
	return nil
}

// propagateTrace gives every emitted event that has none the trace
// context it was made in, so that one trace follows the document from Odoo
// to the callback (delayed status checks included): the span handling the
// event when ctx has one (an Observer's), each hop then a child of the
// last; otherwise the incoming event's own, copied. An emitted event that
// carries the incoming event's own context was copied from it (a retry, a
// stage waiting with stage.Again): it too becomes a child of this hop, so
// that every attempt is one hop of the chain.
func propagateTrace(ctx context.Context, in events.Event, emits []stage.Emit) {
	inTP, _ := in.Extensions()[events.ExtTraceparent].(string)
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if carrier[events.ExtTraceparent] == "" {
		for _, k := range []string{events.ExtTraceparent, events.ExtTracestate} {
			if v, ok := in.Extensions()[k].(string); ok && v != "" {
				carrier[k] = v
			}
		}
	}
	tp, ts := carrier[events.ExtTraceparent], carrier[events.ExtTracestate]
	if tp == "" {
		return
	}
	for i := range emits {
		if have, has := emits[i].Event.Extensions()[events.ExtTraceparent]; has && (inTP == "" || have != inTP) {
			continue
		} else if has {
			emits[i].Event = emits[i].Event.Clone() // it may share its extensions with in
		}
		emits[i].Event.SetExtension(events.ExtTraceparent, tp)
		emits[i].Event.SetExtension(events.ExtTracestate, nil)
		if ts != "" {
			emits[i].Event.SetExtension(events.ExtTracestate, ts)
		}
	}
}

// describe names the emitted events for the log line: "cl.dte.submitted
// cl.dte.check(+1s)".
func describe(emits []stage.Emit) string {
	parts := make([]string, 0, len(emits))
	for _, em := range emits {
		p := em.Event.Type()
		switch {
		case em.Redeliver:
			p += "(again +" + em.After.String() + ")"
		case em.After > 0:
			p += "(+" + em.After.String() + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

var errPanic = errors.New("handler panicked")

// call runs the handler, turning a panic into an error so that one bad
// message cannot take the process (and every in-flight message) down.
func (s *server) call(ctx context.Context, e events.Event) (emits []stage.Emit, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "ce_id", e.ID())
			emits, err = nil, fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	emits, err = s.h(ctx, e)
	if err != nil {
		return nil, err // on an error nothing is emitted
	}
	return emits, nil
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
		if o.result == "bug" || o.result == "poison" || o.result == "exhausted" {
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
func FailedEvent(e events.Event, stageName string, err error, attempts int) (events.Event, error) {
	key, kerr := events.Key(e)
	if kerr != nil {
		return events.Event{}, kerr
	}
	data := events.Failed{
		DTEKey: key.String(), Stage: stageName, Reason: err.Error(), Attempts: attempts,
		Retryable: !errs.IsPermanent(err), Odoo: events.OdooOf(e),
	}
	return events.New(events.ID(key, "failed", stageName, e.ID()), events.TypeFailed, "/dte/"+stageName, key, data)
}

package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/events"
)

// Headers a dead letter carries (besides RabbitMQ's own x-death when the
// queue itself dead-lettered it).
const (
	HeaderDeadQueue    = "dte-dead-queue"
	HeaderDeadReason   = "dte-dead-reason"
	HeaderDeadAt       = "dte-dead-at"
	HeaderDeadAttempts = "dte-dead-attempts" // deliveries it had in that queue
)

// HeaderIdempotencyKey marks a POST as safe to send twice (Go's HTTP
// transport then resends it on a fresh connection when a reused one fails
// before the answer).
const HeaderIdempotencyKey = "Idempotency-Key"

// retryable is the Knative source's set of HTTP statuses worth retrying.
var retryable = map[int]bool{404: true, 413: true, 425: true, 429: true, 502: true, 503: true, 504: true}

// result of one POST.
type result struct {
	status int // 0 when no answer came
	detail string
	err    error
}

func (r result) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }
func (r result) retry() bool {
	return r.err != nil || retryable[r.status]
}
func (r result) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("HTTP %d: %s", r.status, r.detail)
}

// decode reads the message's CloudEvent. A structured CloudEvent goes to
// the function in binary mode; anything else (nil here) is passed on as it
// is, and the function refuses it: poison.
func decode(m amqp.Delivery) *events.Event {
	if m.ContentType != events.ContentTypeStructured {
		return nil
	}
	e, err := events.Unmarshal(m.Body)
	if err != nil {
		return nil
	}
	return &e
}

// handle delivers one message and settles it: ack after success, after a
// confirmed retry, or after a confirmed dead letter. If the broker cannot
// take the retry or dead letter, the message goes back to its queue.
// ev is the message's event, from decode.
//
// On a route that keeps each document's order, a retry is held in the
// lane: the message stays unacknowledged, the backoff is waited here and
// the POST made again, so that none of the document's later messages
// overtakes it (a retry through the delay queues would come back behind
// them: Odoo, which never moves a document backwards, would then drop the
// earlier status). When stop ends during the wait, the message goes back
// to its queue, still ahead of the document's later messages.
func (d *Dispatcher) handle(stop context.Context, r Route, m amqp.Delivery, ev *events.Event) {
	attempt := attemptOf(m)
	for d.attempt(stop, r, m, ev, attempt) {
		attempt++ // held in its lane: post it again
	}
}

// attempt makes one delivery of m and settles it, or, on a route that
// keeps each document's order, waits the backoff and reports held: the
// caller posts it again.
func (d *Dispatcher) attempt(stop context.Context, r Route, m amqp.Delivery, ev *events.Event, attempt int) (held bool) {
	start := time.Now()
	ctx, end := d.observe(r, m, ev, attempt)
	res := d.post(ctx, r, m, ev, attempt)
	log := d.cfg.Logger.With("queue", r.Queue, "message_id", m.MessageId, "attempt", attempt, "status", res.status, "took", time.Since(start).String())
	if ev != nil {
		if dk, _ := ev.Extensions()[events.ExtDTEKey].(string); dk != "" {
			log = log.With("dtekey", dk)
		}
	}
	var err error
	var action string
	switch {
	case res.ok():
		action = ActionDelivered
	case res.retry() && attempt < d.cfg.Attempts && r.Order == OrderDocument:
		end(Outcome{Action: ActionRetryHeld, Status: res.status, Err: res.err})
		log.WarnContext(ctx, "delivery", "action", ActionRetryHeld, "last", res.String())
		if d.holdBackoff(stop, attempt) {
			return true
		}
		// The dispatcher stops: back to the queue, ahead of the
		// document's later messages, for the next consumer.
		_ = m.Nack(false, true)
		return false
	case res.retry() && attempt < d.cfg.Attempts:
		action = ActionRetry
		err = d.retry(ctx, r, m, attempt)
	case r.Queue == bus.QueueDead || r.Queue == bus.QueueDeadParked:
		action = ActionDropped // its copy stays in dte.dead.parked
	default:
		action = ActionDeadLettered
		err = d.deadLetter(ctx, r, m, attempt, res)
	}
	if err != nil {
		log.ErrorContext(ctx, "cannot settle the message; returning it to its queue", "action", action, "error", err, "last", res.String())
		end(Outcome{Action: ActionReturned, Status: res.status, Err: res.err})
		time.Sleep(time.Second) // the broker is in trouble: do not spin
		_ = m.Nack(false, true)
		return false
	}
	if ackErr := m.Ack(false); ackErr != nil {
		log.WarnContext(ctx, "ack failed; the message will be delivered again", "error", ackErr)
	}
	end(Outcome{Action: action, Status: res.status, Err: res.err})
	switch action {
	case ActionDelivered:
		log.InfoContext(ctx, "delivery", "action", action)
	case ActionRetry:
		log.WarnContext(ctx, "delivery", "action", action, "last", res.String())
	default:
		log.ErrorContext(ctx, "delivery", "action", action, "last", res.String())
	}
	return false
}

// backoff is the wait before the attempt after attempt.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	return d.cfg.Backoff[min(attempt-1, len(d.cfg.Backoff)-1)]
}

// holdBackoff waits the backoff after attempt, holding the delivery; false
// when stop ended first.
func (d *Dispatcher) holdBackoff(stop context.Context, attempt int) bool {
	t := time.NewTimer(d.backoff(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop.Done():
		return false
	}
}

// Actions an Outcome reports: what became of a delivery.
const (
	ActionDelivered    = "delivered"     // the function answered 2xx
	ActionRetry        = "retry"         // published to come back after a backoff
	ActionRetryHeld    = "retry-held"    // posted again after a backoff, held in its lane (order: document)
	ActionDeadLettered = "dead-lettered" // published to dte.dlx
	ActionDropped      = "dropped"       // a dead letter that could not be delivered (its copy stays parked)
	ActionReturned     = "returned"      // could not be settled: back to its queue
)

// Observer watches deliveries (metrics, traces). Delivery is called when a
// message is taken, with its event when it is one, and returns the context
// the POST, the retry and the dead letter are made in; end is called once
// with the outcome.
type Observer interface {
	Delivery(r Route, m amqp.Delivery, e *events.Event, attempt int) (ctx context.Context, end func(Outcome))
}

// Outcome is what became of one delivery.
type Outcome struct {
	Action string // Action*
	Status int    // the function's HTTP status; 0 when no answer came
	Err    error  // why no answer came
}

func (d *Dispatcher) observe(r Route, m amqp.Delivery, e *events.Event, attempt int) (context.Context, func(Outcome)) {
	if d.cfg.Observer == nil {
		return context.Background(), func(Outcome) {}
	}
	return d.cfg.Observer.Delivery(r, m, e, attempt)
}

func (d *Dispatcher) post(ctx context.Context, r Route, m amqp.Delivery, e *events.Event, attempt int) result {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, nil)
	if err != nil {
		return result{err: err}
	}
	if e != nil {
		if r.Queue == bus.QueueDead {
			addDeadExtensions(e, m)
		}
		// Binary mode, as the Knative source delivers.
		if err := cehttp.WriteRequest(ctx, binding.ToMessage(e), req); err != nil {
			return result{err: fmt.Errorf("encode event: %w", err)}
		}
	} else {
		// Not a CloudEvent: pass it on as is; the function refuses it and
		// it is dead-lettered, like any poison message.
		req.Body = io.NopCloser(bytes.NewReader(m.Body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(m.Body)), nil }
		req.ContentLength = int64(len(m.Body))
		req.Header.Set("Content-Type", m.ContentType)
	}
	req.Header.Set(delivery.HeaderAttempt, strconv.Itoa(attempt))
	// A function handles an event once however often it gets it, so the
	// POST is idempotent; saying so lets the HTTP transport send it again
	// at once when a kept-alive connection the function had just closed
	// fails it, instead of a retry a backoff later.
	if m.MessageId != "" {
		req.Header.Set(HeaderIdempotencyKey, m.MessageId)
	}
	// The trace context of this delivery (an Observer's span), so that the
	// function's handling is its child.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 600))
	return result{status: resp.StatusCode, detail: string(bytes.TrimSpace(body))}
}

// retry publishes a copy that comes back to this queue only, after the
// backoff for this attempt.
func (d *Dispatcher) retry(ctx context.Context, r Route, m amqp.Delivery, attempt int) error {
	msg := republish(m)
	msg.Headers[bus.HeaderAttempts] = int32(attempt + 1)
	delay := d.backoff(attempt)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.pub.PublishDelayed(ctx, r.Queue, msg, delay); err != nil {
		return fmt.Errorf("publish retry: %w", err)
	}
	return nil
}

func (d *Dispatcher) deadLetter(ctx context.Context, r Route, m amqp.Delivery, attempt int, res result) error {
	msg := republish(m)
	msg.Headers[bus.HeaderAttempts] = int32(attempt)
	msg.Headers[HeaderDeadQueue] = r.Queue
	msg.Headers[HeaderDeadReason] = truncate(res.String(), 500)
	msg.Headers[HeaderDeadAt] = time.Now().UTC().Format(time.RFC3339)
	msg.Headers[HeaderDeadAttempts] = int32(attempt)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.pub.Publish(ctx, bus.ExchangeDLX, r.Queue, msg); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	return nil
}

// republish copies a delivery into a new message with the same body,
// identity and headers.
func republish(m amqp.Delivery) amqp.Publishing {
	h := amqp.Table{}
	for k, v := range m.Headers {
		if k == "x-death" || k == "x-delivery-count" || k == "x-first-death-exchange" || k == "x-first-death-queue" || k == "x-first-death-reason" {
			continue
		}
		h[k] = v
	}
	return amqp.Publishing{
		ContentType: m.ContentType, ContentEncoding: m.ContentEncoding, MessageId: m.MessageId,
		Timestamp: m.Timestamp, Type: m.Type, Headers: h, Body: m.Body, DeliveryMode: amqp.Persistent,
	}
}

func attemptOf(m amqp.Delivery) int {
	switch v := m.Headers[bus.HeaderAttempts].(type) {
	case int32:
		return max(int(v), 1)
	case int64:
		return max(int(v), 1)
	case int:
		return max(v, 1)
	}
	return 1
}

// addDeadExtensions tells notify where a dead letter died, why and after
// how many deliveries (events.ExtDead*), from our own headers or from
// RabbitMQ's x-death when the queue dead-lettered it.
func addDeadExtensions(e *events.Event, m amqp.Delivery) {
	q, _ := m.Headers[HeaderDeadQueue].(string)
	reason, _ := m.Headers[HeaderDeadReason].(string)
	if q == "" {
		if deaths, ok := m.Headers["x-death"].([]any); ok && len(deaths) > 0 {
			if t, ok := deaths[0].(amqp.Table); ok {
				q, _ = t["queue"].(string)
				if why, _ := t["reason"].(string); why != "" && reason == "" {
					reason = "dead-lettered by the broker: " + why
				}
			}
		}
	}
	if q != "" {
		e.SetExtension(events.ExtDeadQueue, q)
	}
	if reason != "" {
		e.SetExtension(events.ExtDeadReason, reason)
	}
	if n, ok := m.Headers[HeaderDeadAttempts].(int32); ok {
		e.SetExtension(events.ExtDeadAttempts, strconv.Itoa(int(n)))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

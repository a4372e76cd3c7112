// Package deadletter reads and replays the parked dead letters
// (bus.QueueDeadParked): what `dte dead list | replay` and the operations
// dashboard's replay button share.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/events"
)

// Letter is one parked message and what its body and headers say about it.
type Letter struct {
	Delivery amqp.Delivery
	DTEKey   string // the event's dtekey extension ("" when the body is no CloudEvent)
	Type     string // the event type
	Queue    string // the queue it died in
	Reason   string // the last error
	At       string // when it died, RFC 3339
}

// MessageID is the message id of the parked copy (the event id).
func (l Letter) MessageID() string { return l.Delivery.MessageId }

// Replayable reports whether the letter can go back to a queue: its queue
// is known and is not the dead-letter queue itself.
func (l Letter) Replayable() bool { return l.Queue != "" && l.Queue != bus.QueueDead }

// Browse takes every parked message without acknowledging it. Closing ch
// returns to the queue every message that was not replayed.
func Browse(ch *amqp.Channel) ([]Letter, error) {
	var out []Letter
	for {
		d, ok, err := ch.Get(bus.QueueDeadParked, false)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", bus.QueueDeadParked, err)
		}
		if !ok {
			return out, nil
		}
		out = append(out, Read(d))
	}
}

// Read reads what a dead letter says about itself: our own headers, or
// RabbitMQ's x-death when the queue itself dead-lettered it.
func Read(d amqp.Delivery) Letter {
	l := Letter{Delivery: d}
	if e, err := events.Unmarshal(d.Body); err == nil {
		l.Type = e.Type()
		l.DTEKey, _ = e.Extensions()[events.ExtDTEKey].(string)
	}
	l.Queue, _ = d.Headers[dispatch.HeaderDeadQueue].(string)
	l.Reason, _ = d.Headers[dispatch.HeaderDeadReason].(string)
	l.At, _ = d.Headers[dispatch.HeaderDeadAt].(string)
	if deaths, ok := d.Headers["x-death"].([]any); ok && len(deaths) > 0 {
		if t, ok := deaths[0].(amqp.Table); ok {
			if l.Queue == "" {
				l.Queue, _ = t["queue"].(string)
			}
			if l.Reason == "" {
				r, _ := t["reason"].(string)
				l.Reason = "broker: " + r
			}
			if tm, ok := t["time"].(time.Time); ok && l.At == "" {
				l.At = tm.UTC().Format(time.RFC3339)
			}
		}
	}
	return l
}

// ErrRefused is a replay the broker did not confirm.
var ErrRefused = errors.New("the broker refused the copy")

// Replay sends the original message back to the queue it died in (through
// bus.ExchangeDirect under the queue's own name), with a fresh attempt
// count and a new retry budget (the event's retry history is dropped: it
// died once its budget was spent), and removes it from the parking queue
// once the broker confirmed the copy. ch must be in confirm mode
// (ch.Confirm).
func Replay(ctx context.Context, ch *amqp.Channel, l Letter) error {
	if !l.Replayable() {
		return fmt.Errorf("replay %s: not a pipeline event or its queue is unknown", l.Delivery.MessageId)
	}
	body := l.Delivery.Body
	if e, err := events.Unmarshal(body); err == nil && events.HasRetry(e) {
		if body, err = events.Marshal(events.WithoutRetry(e)); err != nil {
			return fmt.Errorf("replay %s: re-encode without its retry history: %w", l.Delivery.MessageId, err)
		}
	}
	if err := Requeue(ctx, ch, l.Delivery, l.Queue, body,
		bus.HeaderAttempts, dispatch.HeaderDeadQueue, dispatch.HeaderDeadReason, dispatch.HeaderDeadAt, dispatch.HeaderDeadAttempts); err != nil {
		return fmt.Errorf("replay %s: %w", l.Delivery.MessageId, err)
	}
	return nil
}

// Requeue publishes a browsed message again to dte.direct under key, with
// body and without the headers named in drop (nor RabbitMQ's dead-letter
// bookkeeping), and takes the original from its queue once the broker
// confirmed the copy: `dte dead replay` and `dte retry now`. The channel
// must be in confirm mode.
func Requeue(ctx context.Context, ch *amqp.Channel, d amqp.Delivery, key string, body []byte, drop ...string) error {
	h := amqp.Table{}
	for k, v := range d.Headers {
		if slices.Contains(drop, k) {
			continue
		}
		switch k {
		case "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "x-delivery-count":
			continue
		}
		h[k] = v
	}
	msg := amqp.Publishing{
		ContentType: d.ContentType, MessageId: d.MessageId, Timestamp: d.Timestamp, Type: d.Type,
		Headers: h, Body: body, DeliveryMode: amqp.Persistent,
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(pctx, bus.ExchangeDirect, key, true, false, msg)
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(pctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrRefused
	}
	if err := d.Ack(false); err != nil {
		return fmt.Errorf("the copy is queued but the original could not be removed: %w", err)
	}
	return nil
}

// Result is what ReplayMatching did.
type Result struct {
	Replayed []Letter // sent back to their queues
	Skipped  []Letter // matched but not replayable
	Left     int      // parked letters still there afterwards
	// Parked is every letter that was parked before the replay, for
	// callers that reconcile their own view with the queue.
	Parked []Letter
}

// ReplayMatching connects to the broker at url, replays every parked
// letter for which match is true, and returns the others to the queue.
func ReplayMatching(ctx context.Context, url string, match func(Letter) bool) (Result, error) {
	var res Result
	err := bus.WithChannel(url, 5*time.Second, func(ch *amqp.Channel) error {
		letters, err := Browse(ch)
		if err != nil {
			return err
		}
		res.Parked = letters
		if err := ch.Confirm(false); err != nil {
			return fmt.Errorf("confirm mode: %w", err)
		}
		for _, l := range letters {
			if !match(l) {
				continue
			}
			if !l.Replayable() {
				res.Skipped = append(res.Skipped, l)
				continue
			}
			if err := Replay(ctx, ch, l); err != nil {
				return err
			}
			res.Replayed = append(res.Replayed, l)
		}
		res.Left = len(letters) - len(res.Replayed)
		return nil
	})
	return res, err
}

// Package notify is the notify stage: it tells Odoo about every status
// event of a document, and about documents whose messages died in the
// dead-letter queue.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/stage"
)

// Sender posts a callback to Odoo (callback.Client in production).
type Sender interface {
	Send(ctx context.Context, database string, p callback.Payload) error
}

// Types are the events notify takes on its main path.
var Types = []string{events.TypeRequested, events.TypeSigned, events.TypeSubmitted, events.TypeSettled, events.TypeFailed, events.TypeRetrying}

// Handover makes what the customer receives from an accepted document
// (handover.Maker in production).
type Handover interface {
	Attachments(ctx context.Context, k dtekey.Key, h *request.Handover) ([]callback.Attachment, error)
}

// Function is the notify stage.
type Function struct {
	sender   Sender
	handover Handover
	logger   *slog.Logger
}

// New returns the notify stage posting through sender. handover, when not
// nil, makes the attachments of accepted and objected documents.
func New(sender Sender, handover Handover, logger *slog.Logger) *Function {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Function{sender: sender, handover: handover, logger: logger}
}

// Handle tells Odoo about one status event; it emits nothing. One POST per
// delivery: a failed one is transient and the platform's deliveries retry
// it. Odoo refusing the callback for good (unknown move, dtekey mismatch)
// is permanent: the message is dead-lettered for an operator to look at,
// never turned into another event.
func (f *Function) Handle(ctx context.Context, e events.Event) ([]stage.Emit, error) {
	p, odoo, ok, err := callback.FromEvent(e)
	if err != nil {
		return nil, errs.Permanent(fmt.Errorf("read %s: %w", e.Type(), err))
	}
	if !ok {
		return nil, nil
	}
	if odoo.MoveID <= 0 {
		return nil, errs.Permanentf("%s %s has no Odoo move to report to", e.Type(), p.DTEKey)
	}
	if err := f.attach(ctx, e, odoo, &p); err != nil {
		return nil, err
	}
	return nil, f.sender.Send(ctx, odoo.Database, p)
}

// attach adds to an accepted (or objected) document's callback what the
// customer receives. A transient failure (S3) is returned, so that the
// delivery is retried before Odoo is told; a permanent one (a DTE that
// cannot be printed) must not keep Odoo from learning that the SII
// accepted the document: the callback goes without the files and says why.
func (f *Function) attach(ctx context.Context, e events.Event, odoo request.Odoo, p *callback.Payload) error {
	if f.handover == nil || (p.Status != callback.StatusAccepted && p.Status != callback.StatusObjected) {
		return nil
	}
	key, err := events.Key(e)
	if err != nil {
		return errs.Permanent(err)
	}
	files, err := f.handover.Attachments(ctx, key, odoo.Handover)
	if err != nil && !errs.IsPermanent(err) {
		return err
	}
	p.Attachments = files
	if err != nil {
		p.AttachmentsError = err.Error()
		f.logger.ErrorContext(ctx, "accepted document: what the customer receives could not be made; Odoo is told without it",
			"dtekey", key.String(), "ce_id", e.ID(), "error", err)
	}
	return nil
}

// HandleDead takes a message that died after its attempts. A status event
// that died on its way to Odoo is delivered again as it was; a message that
// died in sign or submit makes Odoo show `error` with the stage and the last
// error. It never fails permanently: a dead letter that cannot be reported is
// logged and dropped (its copy stays in dte.dead.parked).
func (f *Function) HandleDead(ctx context.Context, e events.Event) ([]stage.Emit, error) {
	queue, _ := e.Extensions()[events.ExtDeadQueue].(string)
	stageName := StageOf(queue, e.Type())
	var err error
	if stageName == "notify" {
		_, err = f.Handle(ctx, e)
	} else {
		err = f.reportError(ctx, e, stageName)
	}
	if err == nil || !errs.IsPermanent(err) {
		return nil, err
	}
	f.logger.ErrorContext(ctx, "dead letter cannot be reported to Odoo; dropped (a copy stays in "+events.QueueDeadParked+")",
		"ce_id", e.ID(), "ce_type", e.Type(), "dtekey", e.Extensions()[events.ExtDTEKey], "error", err)
	return nil, nil
}

func (f *Function) reportError(ctx context.Context, e events.Event, stageName string) error {
	key, err := events.Key(e)
	if err != nil {
		return errs.Permanent(err)
	}
	reason := deadReason(e)
	data := events.Failed{DTEKey: key.String(), Stage: stageName, Reason: reason, Attempts: deadAttempts(e), Retryable: true, Odoo: events.OdooOf(e)}
	failed, err := events.New(events.ID(key, "dead", e.ID()), events.TypeFailed, events.SourceNotify, key, data)
	if err != nil {
		return errs.Permanent(err)
	}
	if tp, ok := e.Extensions()[events.ExtTraceparent].(string); ok {
		failed.SetExtension(events.ExtTraceparent, tp) // the callback carries the document's trace
	}
	p, odoo, _, err := callback.FromEvent(failed)
	if err != nil {
		return errs.Permanent(err)
	}
	if odoo.MoveID <= 0 {
		return errs.Permanentf("dead letter %s names no Odoo move", e.ID())
	}
	p.Message += " — reintentos agotados; un operador puede reenviarlo con «dte dead replay " + key.String() + "»"
	return f.sender.Send(ctx, odoo.Database, p)
}

// StageOf names the stage a dead letter died in: from the queue when the
// dispatcher said so, else from the event type (under Knative the queue is
// not passed on). Odoo is told this stage; the metrics count by it.
func StageOf(queue, typ string) string {
	switch queue {
	case events.QueueSign:
		return "sign"
	case events.QueueSubmit:
		if typ == events.TypeCheck {
			return "check"
		}
		return "submit"
	case events.QueueNotify:
		return "notify"
	}
	switch typ {
	case events.TypeRequested:
		return "sign"
	case events.TypeSigned:
		return "submit"
	case events.TypeCheck:
		return "check"
	default:
		return "notify"
	}
}

func deadReason(e events.Event) string {
	ext := e.Extensions()
	if r, ok := ext[events.ExtDeadReason].(string); ok && r != "" {
		return r
	}
	var parts []string
	if c, ok := ext[events.ExtKnativeErrorCode]; ok {
		parts = append(parts, fmt.Sprintf("HTTP %v", c))
	}
	if d, ok := ext[events.ExtKnativeErrorData].(string); ok && d != "" {
		parts = append(parts, d)
	}
	if len(parts) > 0 {
		return strings.Join(parts, ": ")
	}
	return "delivery failed after every attempt (see the function's logs)"
}

// deadAttempts is how many deliveries the dead letter had, when the
// platform says (our dispatcher does; the Knative broker does not): 0
// otherwise.
func deadAttempts(e events.Event) int {
	n, err := strconv.Atoi(fmt.Sprint(e.Extensions()[events.ExtDeadAttempts]))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

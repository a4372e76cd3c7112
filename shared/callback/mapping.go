package callback

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

// stageNames are the stages as Odoo users read them, with their article
// (Spanish nouns have a gender: "la firma", "el envío").
var stageNames = map[string][2]string{
	"enqueue": {"la", "recepción"},
	"sign":    {"la", "firma"},
	"submit":  {"el", "envío al SII"},
	"check":   {"la", "consulta de estado al SII"},
	"notify":  {"la", "notificación"},
}

// StageName is a stage's Spanish name for messages shown in Odoo.
func StageName(stage string) string {
	if n, ok := stageNames[stage]; ok {
		return n[1]
	}
	return stage
}

// traceparentRE is a W3C traceparent of version 00: its trace id is the
// second field, all zeros being invalid.
var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// TraceID is the trace id of e's traceparent extension; "" when e has no
// valid one.
func TraceID(e events.Event) string {
	tp, _ := e.Extensions()[events.ExtTraceparent].(string)
	m := traceparentRE.FindStringSubmatch(tp)
	if m == nil || m[1] == strings.Repeat("0", 32) {
		return ""
	}
	return m[1]
}

// stageWithArticle is the stage's Spanish name with its definite article:
// "la firma", "el envío al SII"; "la etapa X" for a stage it does not know.
func stageWithArticle(stage string) string {
	if n, ok := stageNames[stage]; ok {
		return n[0] + " " + n[1]
	}
	return "la etapa " + stage
}

// FromEvent maps a pipeline event to the callback Odoo gets and the
// database it goes to. ok is false for events Odoo is not told about.
func FromEvent(e events.Event) (p Payload, odoo request.Odoo, ok bool, err error) {
	p = Payload{
		EventID:    e.ID(),
		OccurredAt: e.Time().UTC().Format(time.RFC3339),
	}
	p.DTEKey, _ = e.Extensions()[events.ExtDTEKey].(string)
	p.TraceID = TraceID(e)
	switch e.Type() {
	case events.TypeRequested:
		d, err := events.Decode[events.Requested](e)
		if err != nil {
			return p, odoo, false, err
		}
		p.Status, odoo = StatusQueued, d.Odoo
	case events.TypeSigned:
		d, err := events.Decode[events.Signed](e)
		if err != nil {
			return p, odoo, false, err
		}
		p.Status, odoo = StatusSigned, d.Odoo
	case events.TypeSubmitted:
		d, err := events.Decode[events.Submitted](e)
		if err != nil {
			return p, odoo, false, err
		}
		p.Status, p.TrackID, odoo = StatusSent, d.TrackID, d.Odoo
	case events.TypeSettled:
		d, err := events.Decode[events.Settled](e)
		if err != nil {
			return p, odoo, false, err
		}
		status, known := map[string]string{
			events.ResultAccepted: StatusAccepted,
			events.ResultObjected: StatusObjected,
			events.ResultRejected: StatusRejected,
		}[d.Result]
		if !known {
			return p, odoo, false, fmt.Errorf("settled event with unknown result %q", d.Result)
		}
		p.Status, p.TrackID, p.SIIState, p.Message, odoo = status, d.TrackID, d.SIIState, d.SIIMessage, d.Odoo
	case events.TypeFailed:
		d, err := events.Decode[events.Failed](e)
		if err != nil {
			return p, odoo, false, err
		}
		p.Status, odoo = StatusError, d.Odoo
		p.Message = fmt.Sprintf("Falló %s: %s", stageWithArticle(d.Stage), d.Reason)
	case events.TypeRetrying:
		d, err := events.Decode[events.Retrying](e)
		if err != nil {
			return p, odoo, false, err
		}
		p.Status, odoo = StatusRetrying, d.Odoo
		p.NextAttemptAt = d.NextAttemptAt.UTC().Format(time.RFC3339)
		p.Message = fmt.Sprintf("Falló %s (intento %d): %s. Próximo intento automático: %s (los reintentos terminan el %s)",
			stageWithArticle(d.Stage), d.Attempts, d.Reason, d.NextAttemptAt.UTC().Format("2006-01-02 15:04 UTC"), d.GiveUpAt.UTC().Format("2006-01-02 15:04 UTC"))
	default:
		return p, odoo, false, nil
	}
	p.MoveID = odoo.MoveID
	return p, odoo, true, nil
}

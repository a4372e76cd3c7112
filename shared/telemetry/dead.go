package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage/notify"
)

// DeadLetters is the delivery.Observer of notify's dead-letter path: what
// Deliveries("notify") records, and each dead letter taken, by the stage it
// died in and the reason class (dte_dead_letters_reported_total). notify
// drains dte.dead on every platform, so this counts dead letters under
// Knative too, where no dispatcher of ours sees them.
func (t *Telemetry) DeadLetters() delivery.Observer {
	return deadObserver{t: t, inner: deliveryObserver{t: t, stage: "notify"}}
}

type deadObserver struct {
	t     *Telemetry
	inner deliveryObserver
}

func (o deadObserver) Begin(r *http.Request, e *events.Event) (context.Context, func(delivery.Outcome)) {
	ctx, end := o.inner.Begin(r, e)
	return ctx, func(out delivery.Outcome) {
		end(out)
		if e != nil && out.Status >= 200 && out.Status < 300 {
			o.t.M.DeadReported.WithLabelValues(deadStage(*e), deadReason(*e)).Inc()
		}
	}
}

// deadStage is where a dead letter died, as notify tells Odoo.
func deadStage(e events.Event) string {
	q, _ := e.Extensions()[events.ExtDeadQueue].(string)
	return notify.StageOf(q, e.Type())
}

var httpReason = regexp.MustCompile(`^HTTP ([1-5][0-9][0-9])\b`)

// brokerReasons are the reasons RabbitMQ gives in x-death.
var brokerReasons = map[string]bool{"rejected": true, "expired": true, "maxlen": true, "delivery_limit": true}

// deadReason reduces a dead letter's reason to a class: retry_exhausted
// (a stage's retry budget ran out: its transient failure lasted too
// long), http_NNN (the function's last answer), broker_<reason> (RabbitMQ
// dead-lettered it), timeout, network, or other.
func deadReason(e events.Event) string {
	ext := e.Extensions()
	for _, k := range []string{events.ExtDeadReason, events.ExtKnativeErrorData} {
		if r, _ := ext[k].(string); strings.Contains(r, delivery.ReasonExhausted) {
			return "retry_exhausted"
		}
	}
	if c, ok := ext[events.ExtKnativeErrorCode]; ok {
		if m := httpReason.FindStringSubmatch("HTTP " + fmt.Sprint(c)); m != nil {
			return "http_" + m[1]
		}
	}
	reason, _ := ext[events.ExtDeadReason].(string)
	if m := httpReason.FindStringSubmatch(reason); m != nil {
		return "http_" + m[1]
	}
	if why, ok := strings.CutPrefix(reason, "dead-lettered by the broker: "); ok {
		if brokerReasons[why] {
			return "broker_" + why
		}
		return "broker_other"
	}
	lower := strings.ToLower(reason)
	switch {
	case reason == "":
		return "unknown"
	case strings.Contains(lower, "timeout") || strings.Contains(lower, "deadline exceeded"):
		return "timeout"
	case strings.Contains(lower, "connection refused") || strings.Contains(lower, "connection reset") || strings.Contains(lower, "no such host") || strings.Contains(lower, "eof"):
		return "network"
	}
	return "other"
}

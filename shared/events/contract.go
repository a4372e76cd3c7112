package events

import (
	"encoding/json"

	"github.com/dtecl/pipeline/shared/request"
)

// Queues the functions consume (docs/design.md, "RabbitMQ topology"). The
// bus package declares them; their names are here because they are part of
// what stages and adapters exchange: a dead letter names the queue it died
// in (ExtDeadQueue), and notify tells Odoo which stage that was.
const (
	QueueSign   = "dte.sign"
	QueueSubmit = "dte.submit"
	QueueNotify = "dte.notify"
	QueueDead   = "dte.dead"
	// QueueDeadParked keeps a copy of every dead letter for operators to
	// list and replay (dte dead list / replay): dte.dead itself is drained
	// by notify, which tells Odoo about each one.
	QueueDeadParked = "dte.dead.parked"
)

// Extensions a dead letter carries when it reaches notify's /dead. The
// local dispatcher (and the OpenFaaS connector, which is the same program)
// sets ours from its dead-letter headers; the Knative broker sets its own.
// None starts with "x-": Knative drops those and RabbitMQ reserves them.
const (
	ExtDeadQueue    = "deadqueue"    // the queue the message died in
	ExtDeadReason   = "deadreason"   // the last error
	ExtDeadAttempts = "deadattempts" // how many deliveries it had
	// The Knative broker's dead-letter extensions (eventing's
	// "knativeerrorcode" and "knativeerrordata").
	ExtKnativeErrorCode = "knativeerrorcode"
	ExtKnativeErrorData = "knativeerrordata"
)

// OdooOf reads the Odoo correlation (database and move) that every event's
// data carries at "odoo" (the request itself has it at the top level too):
// where a status about this document is to be reported. A zero Odoo means
// the event names none.
func OdooOf(e Event) request.Odoo {
	var v struct {
		Odoo request.Odoo `json:"odoo"`
	}
	_ = json.Unmarshal(e.Data(), &v)
	return v.Odoo
}

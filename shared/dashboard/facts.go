package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/deadletter"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

// Kinds of facts: the event types without their prefix, and a dead letter.
const (
	KindRequested = "requested"
	KindSigned    = "signed"
	KindSubmitted = "submitted"
	KindCheck     = "check"
	KindSettled   = "settled"
	KindFailed    = "failed"
	KindRetrying  = "retrying"
	KindDead      = "dead"
	KindArchive   = "archive" // a history entry read from the archive's state (rebuild)
)

var kindOfType = map[string]string{
	events.TypeRequested: KindRequested,
	events.TypeSigned:    KindSigned,
	events.TypeSubmitted: KindSubmitted,
	events.TypeCheck:     KindCheck,
	events.TypeSettled:   KindSettled,
	events.TypeFailed:    KindFailed,
	events.TypeRetrying:  KindRetrying,
}

// Fact is one thing the projection learns about a document: an event, a
// dead letter or an entry of an archived state, reduced to what the
// dashboard keeps.
type Fact struct {
	ID       string // unique: the event id, or one derived for dead letters and archive entries
	Kind     string // Kind*
	Key      dtekey.Key
	At       time.Time // when it happened (the event's time)
	Received time.Time // when the dashboard got it (zero for archive entries)
	Status   string    // the status it implies ("" for a status check)

	Receiver   string // RUT of the receiver (requested, signed)
	Total      int64  // MntTotal (requested, signed)
	ArchiveKey string // the signed DTE (signed, archive)
	EnvioKey   string // the EnvioDTE (submitted, archive)
	TrackID    string
	SIIState   string
	Detail     string // what the history shows: the SII's answer, the reason of a failure
	Stage      string // failed: the stage; dead: the queue it died in
	Attempt    int    // check: the attempt
	MessageID  string // dead: the parked copy's message id
}

// ErrUnreadable is a message the projection cannot read: not a CloudEvent
// of the pipeline, or one without the fields its type must have.
var ErrUnreadable = errors.New("unreadable event")

func unreadable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnreadable, fmt.Sprintf(format, args...))
}

// envelope is the part of a structured-mode CloudEvent the dashboard reads.
// It is decoded with encoding/json instead of the CloudEvents SDK: the
// dashboard reads every event of the pipeline and must stay cheap.
type envelope struct {
	SpecVersion string    `json:"specversion"`
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Source      string    `json:"source"`
	Time        time.Time `json:"time"`
	DTEKey      string    `json:"dtekey"`
	// Data is decoded in the same pass (one scan of the body): only the
	// fields the dashboard reads are kept.
	Data eventData `json:"data"`
}

// eventData holds every data field the dashboard reads, across the types.
type eventData struct {
	// Receiver is an object {rut, ...} in cl.dte.requested (the request
	// itself) and a RUT string in cl.dte.signed and cl.dte.check.
	Receiver json.RawMessage `json:"receiver"`
	Totals   *struct {
		Total int64 `json:"total"`
	} `json:"totals"`
	ArchiveKey string `json:"archive_key"`
	EnvioKey   string `json:"envio_key"`
	TrackID    string `json:"track_id"`
	Attempt    int    `json:"attempt"`
	Result     string `json:"result"`
	SIIState   string `json:"sii_state"`
	SIIMessage string `json:"sii_message"`
	Stage      string `json:"stage"`
	Reason     string `json:"reason"`
	Total      int64  `json:"total"`
}

// receiverRUT reads Receiver in either form.
func (d eventData) receiverRUT() string {
	if len(d.Receiver) == 0 {
		return ""
	}
	var s string
	if d.Receiver[0] == '"' {
		_ = json.Unmarshal(d.Receiver, &s)
		return s
	}
	var obj struct {
		RUT string `json:"rut"`
	}
	_ = json.Unmarshal(d.Receiver, &obj)
	return obj.RUT
}

// ParseEvent reads a structured-mode CloudEvent (an AMQP body) as a fact.
func ParseEvent(body []byte, received time.Time) (Fact, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && strings.HasPrefix(typeErr.Field, "data") {
			return Fact{}, unreadable("%s %s: data: %v", env.Type, env.ID, err)
		}
		return Fact{}, unreadable("not a structured CloudEvent: %v", err)
	}
	return env.fact(received)
}

// FromEvent reads an SDK event (what the HTTP input receives) as a fact.
func FromEvent(e events.Event, received time.Time) (Fact, error) {
	dk, _ := e.Extensions()[events.ExtDTEKey].(string)
	env := envelope{SpecVersion: e.SpecVersion(), ID: e.ID(), Type: e.Type(), Source: e.Source(), Time: e.Time(), DTEKey: dk}
	if data := e.Data(); len(data) > 0 {
		if err := json.Unmarshal(data, &env.Data); err != nil {
			return Fact{}, unreadable("%s %s: data: %v", e.Type(), e.ID(), err)
		}
	}
	return env.fact(received)
}

func (env envelope) fact(received time.Time) (Fact, error) {
	kind, ok := kindOfType[env.Type]
	switch {
	case env.SpecVersion != "1.0":
		return Fact{}, unreadable("specversion %q: want 1.0", env.SpecVersion)
	case env.ID == "":
		return Fact{}, unreadable("%s: no id", env.Type)
	case !ok:
		return Fact{}, unreadable("type %q is not one of the pipeline's", env.Type)
	case env.Time.IsZero():
		return Fact{}, unreadable("%s %s: no time", env.Type, env.ID)
	}
	k, err := dtekey.Parse(env.DTEKey)
	if err != nil {
		return Fact{}, unreadable("%s %s: dtekey: %v", env.Type, env.ID, err)
	}
	f := Fact{ID: env.ID, Kind: kind, Key: k, At: env.Time.UTC(), Received: received.UTC()}
	d := env.Data
	switch kind {
	case KindRequested:
		f.Status, f.Receiver = archive.StatusQueued, d.receiverRUT()
		if d.Totals != nil {
			f.Total = d.Totals.Total
		}
	case KindSigned:
		f.Status, f.ArchiveKey, f.Receiver, f.Total = archive.StatusSigned, d.ArchiveKey, d.receiverRUT(), d.Total
		if f.ArchiveKey == "" {
			return Fact{}, unreadable("%s %s: no archive_key", env.Type, env.ID)
		}
	case KindSubmitted:
		f.Status, f.TrackID, f.EnvioKey = archive.StatusSent, d.TrackID, d.EnvioKey
	case KindCheck:
		f.TrackID, f.Attempt, f.Receiver, f.Total = d.TrackID, d.Attempt, d.receiverRUT(), d.Total
	case KindSettled:
		f.TrackID, f.SIIState = d.TrackID, d.SIIState
		f.Detail = joinNonEmpty(": ", d.SIIState, d.SIIMessage)
		switch d.Result {
		case events.ResultAccepted:
			f.Status = archive.StatusAccepted
		case events.ResultObjected:
			f.Status = archive.StatusObjected
		case events.ResultRejected:
			f.Status = archive.StatusRejected
		default:
			return Fact{}, unreadable("%s %s: result %q is not accepted, objected or rejected", env.Type, env.ID, d.Result)
		}
	case KindFailed:
		f.Status, f.Stage, f.Detail = archive.StatusError, d.Stage, d.Reason
	case KindRetrying:
		f.Status, f.Stage, f.Detail = StatusRetrying, d.Stage, d.Reason
	}
	return f, nil
}

// ParseDelivery reads a message of the dashboard's queue: a dead letter
// when it came through bus.ExchangeDLX, an event otherwise.
func ParseDelivery(d amqp.Delivery, received time.Time) (Fact, error) {
	if d.Exchange != bus.ExchangeDLX {
		return ParseEvent(d.Body, received)
	}
	l := deadletter.Read(d)
	k, err := dtekey.Parse(l.DTEKey)
	if err != nil {
		return Fact{}, unreadable("dead letter %s: dtekey: %v", d.MessageId, err)
	}
	at := received.UTC()
	if t, err := time.Parse(time.RFC3339, l.At); err == nil {
		at = t.UTC()
	}
	f := Fact{
		Kind: KindDead, Key: k, At: at, Received: received.UTC(), Stage: l.Queue,
		Detail: l.Reason, MessageID: d.MessageId,
	}
	// The same event can die more than once (after a replay): the id
	// includes when it died.
	f.ID = "dead:" + d.MessageId + ":" + at.Format(time.RFC3339Nano)
	// A dead letter in a stage's queue means the pipeline gave up on the
	// document there, as Odoo is told; one in notify's queue only means
	// Odoo was not told, and the document's status stays.
	if l.Queue != bus.QueueNotify {
		f.Status = archive.StatusError
	}
	return f, nil
}

func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}

package events

import (
	"encoding/json"
	"time"

	"github.com/dtecl/pipeline/shared/request"
)

// Signed is the data of cl.dte.signed.
type Signed struct {
	DTEKey     string             `json:"dtekey"`
	ArchiveKey string             `json:"archive_key"` // dte/{rut}/{type}/{folio}.xml
	Digest     string             `json:"digest"`      // hex SHA-256 of the archived bytes
	Receiver   string             `json:"receiver"`    // RUTRecep, for the SII's status query
	IssueDate  string             `json:"issue_date"`  // FchEmis
	Total      int64              `json:"total"`       // MntTotal
	Resolution request.Resolution `json:"sii_resolution"`
	// References lists the dtekeys of documents of the same issuer that this
	// one modifies (notes): the SII must have accepted them first.
	References []string     `json:"references,omitempty"`
	Odoo       request.Odoo `json:"odoo"`
	// DTE is the signed DTE as archived (its SHA-256 is Digest), so that
	// submit need not read back what sign has just written. Optional: an
	// event without it (or whose bytes do not match Digest) makes submit
	// read ArchiveKey.
	DTE []byte `json:"dte,omitempty"`
	// State is the document's state as sign left it (StateSeed). A sign
	// that writes no state (since issue 17) leaves it out and sends
	// RequestDigest and SignedAt instead: submit's first write creates the
	// state with them.
	State *StateSeed `json:"state,omitempty"`
	// RequestDigest is the hex SHA-256 of the request the DTE was built
	// from (archive.State.RequestDigest).
	RequestDigest string `json:"request_digest,omitempty"`
	// SignedAt is when sign archived the DTE: the state's "signed" step.
	SignedAt time.Time `json:"signed_at,omitzero"`
}

// StateSeed is a document's state as the stage that emitted the event
// wrote it (the archive's state object, "Archive" in docs/design.md), with
// the ETag that write got. The next stage starts its update from it with
// If-Match on that ETag instead of reading the state again; when the state
// has changed since (a redelivered or duplicated event), the write is
// refused and the stage reads the state as it would without a seed. A seed
// is a hint, never trusted without that condition.
type StateSeed struct {
	ETag  string          `json:"etag"`
	State json.RawMessage `json:"state"`
}

// Submitted is the data of cl.dte.submitted.
type Submitted struct {
	DTEKey   string       `json:"dtekey"`
	TrackID  string       `json:"track_id"`
	EnvioKey string       `json:"envio_key"` // envio/{rut}/{yyyy}/{mm}/{envioID}.xml
	Odoo     request.Odoo `json:"odoo"`
}

// Check is the data of cl.dte.check, a delayed status query.
type Check struct {
	DTEKey  string `json:"dtekey"`
	TrackID string `json:"track_id"`
	Attempt int    `json:"attempt"`
	// Receiver, IssueDate and Total identify the document to the SII's
	// per-document query (QueryEstDte).
	Receiver  string       `json:"receiver"`
	IssueDate string       `json:"issue_date"`
	Total     int64        `json:"total"`
	Odoo      request.Odoo `json:"odoo"`
	// State is the document's state as the check's sender left it
	// (StateSeed).
	State *StateSeed `json:"state,omitempty"`
}

// Results of a settled document.
const (
	ResultAccepted = "accepted" // aceptado
	ResultObjected = "objected" // aceptado con reparos
	ResultRejected = "rejected" // rechazado
)

// Settled is the data of cl.dte.settled: the SII's final answer.
type Settled struct {
	DTEKey     string       `json:"dtekey"`
	TrackID    string       `json:"track_id"`
	Result     string       `json:"result"`      // accepted, objected, rejected
	SIIState   string       `json:"sii_state"`   // e.g. EPR, RCH, RPR
	SIIMessage string       `json:"sii_message"` // the SII's glosa and detail
	Odoo       request.Odoo `json:"odoo"`
}

// Failed is the data of cl.dte.failed.
type Failed struct {
	DTEKey    string       `json:"dtekey"`
	Stage     string       `json:"stage"` // enqueue, sign, submit, check, notify
	Reason    string       `json:"reason"`
	Attempts  int          `json:"attempts"`  // deliveries made, when the platform said (0: unknown)
	Retryable bool         `json:"retryable"` // whether trying again later could help
	Odoo      request.Odoo `json:"odoo"`
}

// Retrying is the data of cl.dte.retrying: a stage failed transiently and
// the event waits in the slow retry tier until NextAttemptAt.
type Retrying struct {
	DTEKey        string       `json:"dtekey"`
	Stage         string       `json:"stage"`           // sign, submit, check
	Reason        string       `json:"reason"`          // the last error
	Attempts      int          `json:"attempts"`        // failed attempts so far
	FirstFailure  time.Time    `json:"first_failure"`   // when the retries began
	NextAttemptAt time.Time    `json:"next_attempt_at"` // about when the next attempt comes
	GiveUpAt      time.Time    `json:"give_up_at"`      // when the budget ends: then error
	Odoo          request.Odoo `json:"odoo"`
}

package archive

import (
	"slices"
	"time"
)

// Document statuses, the same values Odoo's callback knows (docs/design.md,
// "Odoo callback").
const (
	StatusQueued   = "queued"   // enqueue accepted the request
	StatusSigned   = "signed"   // sign archived the signed DTE
	StatusSent     = "sent"     // submit uploaded it; TrackID known
	StatusAccepted = "accepted" // SII: aceptado
	StatusObjected = "objected" // SII: aceptado con reparos
	StatusRejected = "rejected" // SII: rechazado
	StatusError    = "error"    // the pipeline gave up (permanent failure or dead letter)
)

// ValidStatus reports whether s is one of the Status* values.
func ValidStatus(s string) bool {
	switch s {
	case StatusQueued, StatusSigned, StatusSent, StatusAccepted, StatusObjected, StatusRejected, StatusError:
		return true
	}
	return false
}

// FinalStatus reports whether s is an SII verdict, after which nothing more
// happens to the document.
func FinalStatus(s string) bool {
	return s == StatusAccepted || s == StatusObjected || s == StatusRejected
}

// State is what the pipeline knows about one document, stored as JSON at
// StateObjectKey. A redelivered message reads it to find its work done.
type State struct {
	DTEKey string `json:"dtekey"`
	Status string `json:"status"` // one of the Status* values
	// RequestDigest is the hex SHA-256 of the request the DTE was built
	// from, so that a different request under the same dtekey is noticed.
	RequestDigest string `json:"request_digest,omitempty"`
	ArchiveKey    string `json:"archive_key,omitempty"` // the signed DTE
	Digest        string `json:"digest,omitempty"`      // hex SHA-256 of the signed DTE bytes
	EnvioKey      string `json:"envio_key,omitempty"`   // the EnvioDTE it was uploaded in
	// UploadStartedAt is set (and saved) before an upload to the SII, so
	// that an upload whose answer was lost is detected on redelivery
	// instead of being repeated blindly.
	UploadStartedAt *time.Time `json:"upload_started_at,omitempty"`
	TrackID         string     `json:"track_id,omitempty"`
	SIIState        string     `json:"sii_state,omitempty"`   // e.g. EPR, RCH, DOK
	SIIMessage      string     `json:"sii_message,omitempty"` // the SII's glosa and detail
	Checks          int        `json:"checks"`                // last status-check attempt processed
	// CheckCopy tells which copy of that check was processed (its event
	// time): the same copy delivered again sends the next check again,
	// another copy is a duplicate and is dropped.
	CheckCopy string    `json:"check_copy,omitempty"`
	History   []Entry   `json:"history"`
	UpdatedAt time.Time `json:"updated_at"` // set by UpdateState
}

// Entry is one step in a document's history.
type Entry struct {
	At      time.Time `json:"at"`
	Status  string    `json:"status"`
	Detail  string    `json:"detail,omitempty"`
	EventID string    `json:"event_id,omitempty"` // the CloudEvent that caused it
}

// Record sets the status and appends it to the history.
func (s *State) Record(at time.Time, status, detail, eventID string) {
	s.Status = status
	s.History = append(s.History, Entry{At: at.UTC(), Status: status, Detail: detail, EventID: eventID})
}

// Seen reports whether an event is already in the history: a redelivered
// message finds its own entry and does not repeat its work.
func (s State) Seen(eventID string) bool {
	if eventID == "" {
		return false
	}
	return slices.ContainsFunc(s.History, func(e Entry) bool { return e.EventID == eventID })
}

// clone is a deep copy, so that an update function that fails half-way
// cannot change the state it was given.
func (s State) clone() State {
	c := s
	c.History = slices.Clone(s.History)
	if s.UploadStartedAt != nil {
		t := *s.UploadStartedAt
		c.UploadStartedAt = &t
	}
	return c
}

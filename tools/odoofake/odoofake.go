// Package odoofake is a stand-in for Odoo's side of the callback contract
// (docs/design.md, "Odoo callback"), strict enough to catch any drift: it checks
// the signature and its time window, the database header, the exact JSON
// fields and their types, the status values and the dtekey of each move;
// it drops repeated event ids and never moves a status backwards, like the
// addon does; and it records everything for tests and for `dte local`.
package odoofake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/webhook"
)

// Path is the callback route.
const Path = "/api/dte/callback"

// Callback is one accepted callback as Odoo received it.
type Callback struct {
	EventID    string `json:"event_id"`
	DTEKey     string `json:"dtekey"`
	MoveID     int64  `json:"move_id"`
	Status     string `json:"status"`
	TrackID    string `json:"track_id"`
	SIIState   string `json:"sii_state"`
	Message    string `json:"message"`
	OccurredAt string `json:"occurred_at"`
	TraceID    string `json:"trace_id"`
	// NextAttemptAt is set for retrying only.
	NextAttemptAt string `json:"next_attempt_at"`
	// Attachments and AttachmentsError come with accepted and objected
	// only (docs/design.md, "What the customer receives"); optional.
	Attachments      []Attachment `json:"attachments,omitempty"`
	AttachmentsError string       `json:"attachments_error,omitempty"`
	Received         time.Time    `json:"-"`
	Result           string       `json:"-"` // applied, duplicate, ignored
}

// Attachment is a file of an accepted document, as the addon reads it.
type Attachment struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	MimeType   string `json:"mimetype"`
	ArchiveKey string `json:"archive_key"`
	SHA256     string `json:"sha256"`
	Size       int    `json:"size"`
	Data       string `json:"data,omitempty"`
}

// Bytes decodes the file (nil when it came without data).
func (a Attachment) Bytes() ([]byte, error) { return base64.StdEncoding.DecodeString(a.Data) }

// MaxBody is the addon's bound on a callback's body (MAX_BODY_BYTES).
const MaxBody = 2 << 20

// Move is an invoice Odoo knows: its dtekey and current status.
type Move struct {
	ID      int64
	DTEKey  string
	Status  string // "" = not sent
	TrackID string
	// statusAt is when the current status happened, so that a later
	// event can move the status on from error or retrying (a replayed dead
	// letter, a retry that succeeded) while an older one cannot.
	statusAt time.Time
}

// Server is the fake Odoo.
type Server struct {
	secret   []byte
	database string
	now      func() time.Time
	onChange func(Callback)

	mu         sync.Mutex
	moves      map[int64]*Move
	seen       map[string]bool
	received   []Callback
	violations []string
	failNext   []int // statuses to answer before the next callbacks
}

// New returns a fake Odoo for database db that checks signatures with secret.
// onChange, if not nil, is called for each applied status change.
func New(secret []byte, db string, onChange func(Callback)) *Server {
	return &Server{secret: secret, database: db, now: time.Now, onChange: onChange, moves: map[int64]*Move{}, seen: map[string]bool{}}
}

// AddMove registers an invoice, as posting it in Odoo would. Registering
// it again (the invoice sent again) keeps its status.
func (s *Server) AddMove(id int64, dtekey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.moves[id]; ok && m.DTEKey == dtekey {
		return
	}
	s.moves[id] = &Move{ID: id, DTEKey: dtekey}
}

// FailNext makes the next len(statuses) callbacks answer those HTTP statuses
// (e.g. 503 while "Odoo is down") without applying them.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, statuses...)
}

// Move returns a copy of a move's state.
func (s *Server) Move(id int64) (Move, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.moves[id]
	if !ok {
		return Move{}, false
	}
	return *m, true
}

// Received lists the callbacks accepted so far (applied, duplicate or
// ignored), in arrival order.
func (s *Server) Received() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.received...)
}

// Violations lists every contract violation seen; a test fails on any.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// rank orders statuses; finals are terminal; error and retrying stand
// aside (they are ordered by time).
var rank = map[string]int{"queued": 1, "signed": 2, "sent": 3, "accepted": 4, "objected": 4, "rejected": 4, "error": 0, "retrying": 0}

var fields = []string{"event_id", "dtekey", "move_id", "status", "track_id", "sii_state", "message", "occurred_at", "trace_id", "next_attempt_at"}

// optionalFields may be absent.
var optionalFields = []string{"attachments", "attachments_error"}

// traceIDRE is a callback's trace_id: 32 lowercase hex digits, or empty.
var traceIDRE = regexp.MustCompile(`^([0-9a-f]{32})?$`)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	status, body := s.handle(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) handle(r *http.Request) (int, map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failNext) > 0 {
		st := s.failNext[0]
		s.failNext = s.failNext[1:]
		return st, map[string]string{"error": "injected failure"}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return s.violation(400, "unreadable body: %v", err)
	}
	if len(raw) > MaxBody {
		return s.violation(413, "body over %d bytes", MaxBody)
	}
	if r.Method != http.MethodPost {
		return s.violation(405, "method %s", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return s.violation(400, "Content-Type %q, want application/json", ct)
	}
	if err := webhook.Verify(s.secret, r.Header.Get(webhook.Header), raw, s.now(), webhook.DefaultWindow); err != nil {
		return 401, map[string]string{"error": err.Error()}
	}
	if db := r.Header.Get("X-Odoo-Database"); db != s.database {
		return s.violation(404, "X-Odoo-Database %q, want %q", db, s.database)
	}
	cb, err := s.decode(raw)
	if err != nil {
		return s.violation(400, "%v: %s", err, raw)
	}
	cb.Received = s.now()
	m, ok := s.moves[cb.MoveID]
	if !ok {
		return 404, map[string]string{"error": fmt.Sprintf("move %d not found", cb.MoveID)}
	}
	if m.DTEKey != cb.DTEKey {
		return 409, map[string]string{"error": fmt.Sprintf("move %d is %s, not %s", cb.MoveID, m.DTEKey, cb.DTEKey)}
	}
	switch {
	case s.seen[cb.EventID]:
		cb.Result = "duplicate"
	case s.applies(m, cb):
		cb.Result = "applied"
		m.Status = cb.Status
		if cb.TrackID != "" {
			m.TrackID = cb.TrackID
		}
		m.statusAt, _ = time.Parse(time.RFC3339, cb.OccurredAt)
	default:
		cb.Result = "ignored"
	}
	s.seen[cb.EventID] = true
	s.received = append(s.received, cb)
	if cb.Result == "applied" && s.onChange != nil {
		s.onChange(cb)
	}
	return 200, map[string]string{"result": cb.Result}
}

// applies is the addon's rule (odoo/l10n_cl_dte_async/dtelib/transitions.py):
// never backwards; finals never change; error over any non-final status
// (over an error only when newer); retrying over any non-final status that
// happened no later; from error, a final status or an event that happened
// later moves the document on, and
// from retrying one that happened no earlier (occurred_at has a resolution
// of one second, and `dte retry now` can succeed within it).
func (s *Server) applies(m *Move, cb Callback) bool {
	cur := m.Status
	if cur != "" && rank[cur] == 4 {
		return false
	}
	at, _ := time.Parse(time.RFC3339, cb.OccurredAt)
	switch {
	case cb.Status == "error":
		return cur != "error" || at.After(m.statusAt)
	case cur == "error":
		// A final status is the SII's word and always applies; any other
		// event must be of a later second: one of the same second as the
		// error (a "queued" handled after the "error" it preceded) is stale.
		return rank[cb.Status] == 4 || at.After(m.statusAt)
	case cb.Status == "retrying":
		return cur == "" || !at.Before(m.statusAt)
	case cur == "retrying":
		return rank[cb.Status] == 4 || !at.Before(m.statusAt)
	}
	return rank[cb.Status] > rank[cur]
}

// decode checks the exact shape: every field present, nothing else, the
// right JSON types, a known status and an RFC 3339 time.
func (s *Server) decode(raw []byte) (Callback, error) {
	var generic map[string]json.RawMessage
	if err := json.Unmarshal(raw, &generic); err != nil {
		return Callback{}, fmt.Errorf("body is not a JSON object: %w", err)
	}
	var missing, extra []string
	for _, f := range fields {
		if _, ok := generic[f]; !ok {
			missing = append(missing, f)
		}
	}
	for k := range generic {
		if !contains(fields, k) && !contains(optionalFields, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		return Callback{}, fmt.Errorf("fields: missing %v, unexpected %v", missing, extra)
	}
	var cb Callback
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cb); err != nil {
		return Callback{}, fmt.Errorf("field types: %w", err)
	}
	if _, ok := rank[cb.Status]; !ok {
		return Callback{}, fmt.Errorf("unknown status %q", cb.Status)
	}
	if _, err := time.Parse(time.RFC3339, cb.OccurredAt); err != nil {
		return Callback{}, fmt.Errorf("occurred_at %q is not RFC 3339", cb.OccurredAt)
	}
	if !traceIDRE.MatchString(cb.TraceID) || cb.TraceID == strings.Repeat("0", 32) {
		return Callback{}, fmt.Errorf("trace_id %q is not 32 lowercase hex digits", cb.TraceID)
	}
	if cb.EventID == "" || cb.DTEKey == "" || cb.MoveID <= 0 {
		return Callback{}, fmt.Errorf("empty event_id, dtekey or move_id")
	}
	if cb.Status == "sent" && cb.TrackID == "" {
		return Callback{}, fmt.Errorf("status sent without a track_id")
	}
	if err := checkAttachments(cb); err != nil {
		return Callback{}, err
	}
	if next, err := time.Parse(time.RFC3339, cb.NextAttemptAt); (cb.Status == "retrying") != (err == nil) || (err == nil && next.Before(s.now().Add(-time.Hour))) {
		return Callback{}, fmt.Errorf("next_attempt_at %q with status %s: an RFC 3339 time for retrying only", cb.NextAttemptAt, cb.Status)
	}
	return cb, nil
}

// checkAttachments: only on accepted and objected; each file's data (when
// given) is base64 whose size and SHA-256 are the ones announced.
func checkAttachments(cb Callback) error {
	if len(cb.Attachments) == 0 && cb.AttachmentsError == "" {
		return nil
	}
	if cb.Status != "accepted" && cb.Status != "objected" {
		return fmt.Errorf("attachments with status %s: only accepted and objected carry them", cb.Status)
	}
	for _, a := range cb.Attachments {
		if a.Kind != "pdf" && a.Kind != "receiver_envelope" {
			return fmt.Errorf("attachment kind %q", a.Kind)
		}
		if a.Name == "" || a.MimeType == "" || a.ArchiveKey == "" {
			return fmt.Errorf("attachment %q: empty name, mimetype or archive_key", a.Kind)
		}
		if a.Data == "" {
			if cb.AttachmentsError == "" {
				return fmt.Errorf("attachment %s without data and without attachments_error", a.Name)
			}
			continue
		}
		b, err := a.Bytes()
		if err != nil {
			return fmt.Errorf("attachment %s: data is not base64: %w", a.Name, err)
		}
		sum := sha256.Sum256(b)
		if len(b) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 {
			return fmt.Errorf("attachment %s: size or sha256 do not match its data", a.Name)
		}
	}
	return nil
}

func (s *Server) violation(status int, format string, args ...any) (int, map[string]string) {
	msg := fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	return status, map[string]string{"error": msg}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

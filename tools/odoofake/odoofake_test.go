package odoofake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/webhook"
)

var secret = []byte("cb")

func post(t *testing.T, s *Server, body string, sign bool, db string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Odoo-Database", db)
	if sign {
		req.Header.Set(webhook.Header, webhook.Sign(secret, time.Now(), []byte(body)))
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out["result"]
}

func cb(id, status, at string) string {
	next := ""
	if status == "retrying" {
		next = at
	}
	b, _ := json.Marshal(map[string]any{"event_id": id, "dtekey": "76086428-5-33-1", "move_id": 1, "status": status,
		"track_id": "7", "sii_state": "", "message": "", "occurred_at": at, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "next_attempt_at": next})
	return string(b)
}

func TestContractAndTransitions(t *testing.T) {
	s := New(secret, "odoo", nil)
	s.AddMove(1, "76086428-5-33-1")
	s.AddMove(2, "76086428-5-33-2")
	t0 := time.Now().UTC()
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	steps := []struct {
		body       string
		sign       bool
		db         string
		wantCode   int
		wantResult string
		wantStatus string
	}{
		{cb("a", "queued", at(0)), false, "odoo", 401, "", ""},
		{cb("a", "queued", at(0)), true, "other", 404, "", ""},
		{cb("a", "queued", at(0)), true, "odoo", 200, "applied", "queued"},
		{cb("a", "queued", at(0)), true, "odoo", 200, "duplicate", "queued"},
		{cb("c", "sent", at(2*time.Second)), true, "odoo", 200, "applied", "sent"},
		{cb("b", "signed", at(time.Second)), true, "odoo", 200, "ignored", "sent"},
		{cb("d", "error", at(3*time.Second)), true, "odoo", 200, "applied", "error"},
		{cb("e", "accepted", at(4*time.Second)), true, "odoo", 200, "applied", "accepted"},
		{cb("f", "error", at(5*time.Second)), true, "odoo", 200, "ignored", "accepted"},
		{`{"event_id":"g","dtekey":"76086428-5-33-1","move_id":1,"status":"bogus","track_id":"","sii_state":"","message":"","occurred_at":"` + at(0) + `","trace_id":"","next_attempt_at":""}`, true, "odoo", 400, "", "accepted"},
		{`{"event_id":"h","dtekey":"76086428-5-33-1","move_id":1,"status":"queued"}`, true, "odoo", 400, "", "accepted"},
		{`{"event_id":"j","dtekey":"76086428-5-33-1","move_id":1,"status":"queued","track_id":"","sii_state":"","message":"","occurred_at":"` + at(0) + `","trace_id":"XYZ","next_attempt_at":""}`, true, "odoo", 400, "", "accepted"},
		{`{"event_id":"i","dtekey":"76086428-5-33-9","move_id":2,"status":"queued","track_id":"","sii_state":"","message":"","occurred_at":"` + at(0) + `","trace_id":"","next_attempt_at":""}`, true, "odoo", 409, "", "accepted"},
	}
	for i, st := range steps {
		code, result := post(t, s, st.body, st.sign, st.db)
		if code != st.wantCode || result != st.wantResult {
			t.Fatalf("step %d: %d %q, want %d %q", i, code, result, st.wantCode, st.wantResult)
		}
		if m, _ := s.Move(1); m.Status != st.wantStatus {
			t.Fatalf("step %d: status %q, want %q", i, m.Status, st.wantStatus)
		}
	}
	if len(s.Violations()) != 4 {
		t.Fatalf("violations %v", s.Violations())
	}
}

// TestRetrying: retrying applies over any status that is not final and
// happened no later; from retrying, a later event or a final one moves on,
// an older one is stale; a retrying callback must say when the next
// attempt comes, and only a retrying one.
func TestRetrying(t *testing.T) {
	s, at := oneMove()
	steps := []struct {
		body               string
		wantCode           int
		wantResult, status string
	}{
		{cb("q", "queued", at(0)), 200, "applied", "queued"},
		{cb("r1", "retrying", at(time.Second)), 200, "applied", "retrying"},
		{cb("r2", "retrying", at(time.Minute)), 200, "applied", "retrying"},
		{cb("q2", "queued", at(30*time.Second)), 200, "ignored", "retrying"},
		{cb("s", "signed", at(time.Minute)), 200, "applied", "signed"}, // the same second: a retry forced at once
		{cb("r3", "retrying", at(30*time.Second)), 200, "ignored", "signed"},
		{cb("r4", "retrying", at(3*time.Minute)), 200, "applied", "retrying"},
		{cb("e", "error", at(4*time.Minute)), 200, "applied", "error"},
		{cb("r5", "retrying", at(5*time.Minute)), 200, "applied", "retrying"},
		{cb("a", "accepted", at(5*time.Minute)), 200, "applied", "accepted"},
		{cb("r6", "retrying", at(6*time.Minute)), 200, "ignored", "accepted"},
		{strings.Replace(cb("x", "retrying", at(0)), `"next_attempt_at":"`+at(0)+`"`, `"next_attempt_at":""`, 1), 400, "", "accepted"},
		{strings.Replace(cb("y", "queued", at(0)), `"next_attempt_at":""`, `"next_attempt_at":"`+at(0)+`"`, 1), 400, "", "accepted"},
	}
	for i, st := range steps {
		code, result := post(t, s, st.body, true, "odoo")
		if code != st.wantCode || result != st.wantResult {
			t.Fatalf("step %d: %d %q, want %d %q", i, code, result, st.wantCode, st.wantResult)
		}
		if m, _ := s.Move(1); m.Status != st.status {
			t.Fatalf("step %d: status %q, want %q", i, m.Status, st.status)
		}
	}
}

// TestAfterError is the addon's rule from error (transitions.py): only an
// event that happened strictly later, or a final status, moves the document
// on, so a "queued" handled after the "error" of the same second stays
// ignored; an error replaces an error only when newer.
func TestAfterError(t *testing.T) {
	s, at := oneMove()
	steps := []struct {
		body               string
		wantResult, status string
	}{
		{cb("e1", "error", at(0)), "applied", "error"},
		{cb("q", "queued", at(0)), "ignored", "error"},
		{cb("e0", "error", at(0)), "ignored", "error"},
		{cb("e2", "error", at(time.Second)), "applied", "error"},
		{cb("s", "signed", at(2*time.Second)), "applied", "signed"},
		{cb("e3", "error", at(3*time.Second)), "applied", "error"},
		{cb("a", "accepted", at(3*time.Second)), "applied", "accepted"},
	}
	for i, st := range steps {
		code, result := post(t, s, st.body, true, "odoo")
		if code != 200 || result != st.wantResult {
			t.Fatalf("step %d: %d %q, want 200 %q", i, code, result, st.wantResult)
		}
		if m, _ := s.Move(1); m.Status != st.status {
			t.Fatalf("step %d: status %q, want %q", i, m.Status, st.status)
		}
	}
}

// oneMove is a fake Odoo with move 1, and the time d after the start of
// the current second, as a callback's occurred_at.
func oneMove() (*Server, func(d time.Duration) string) {
	s := New(secret, "odoo", nil)
	s.AddMove(1, "76086428-5-33-1")
	t0 := time.Now().UTC().Truncate(time.Second)
	return s, func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
}

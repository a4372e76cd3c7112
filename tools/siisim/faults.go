package siisim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
)

// Operation names, as used in Faults.Ops and Stats.
const (
	OpGetSeed   = "getSeed"
	OpGetToken  = "getToken"
	OpUpload    = "upload"
	OpGetEstUp  = "getEstUp"
	OpGetEstDte = "getEstDte"
)

// Faults are failures the simulator injects, set in Config or with POST
// /admin/faults (JSON, field names below). Counters count down as calls
// consume them; Reject and Object stay until cleared.
type Faults struct {
	// Latency is added to every SII call ("250ms" in JSON).
	Latency Duration `json:"latency,omitempty"`
	// Fail5xx makes the next N calls answer 500 "Error 500" (an Axis
	// crash, a CGI failure).
	Fail5xx int `json:"fail_5xx,omitempty"`
	// HTML makes the next N calls answer 503 with an HTML page (overload,
	// maintenance).
	HTML int `json:"html,omitempty"`
	// Hang makes the next N calls never answer: the connection stays open
	// until the client gives up (or HangFor passes, default 5 min).
	Hang int `json:"hang,omitempty"`
	// HangFor bounds a hang.
	HangFor Duration `json:"hang_for,omitempty"`
	// Ops limits the counters above to these operations (getSeed,
	// getToken, upload, getEstUp, getEstDte); empty means every one.
	Ops []string `json:"ops,omitempty"`
	// ExpireTokens expires every token issued so far (POST only: it
	// happens once, it is not kept).
	ExpireTokens bool `json:"expire_tokens,omitempty"`
	// Reject rejects these documents (dtekey → reason) whenever uploaded:
	// RCH for that document, the rest of its envelope unaffected.
	Reject map[string]string `json:"reject,omitempty"`
	// Object accepts these documents with objections (reparos).
	Object map[string]string `json:"object,omitempty"`
	// RejectEnvelope makes the next upload end in this envelope state:
	// RSC, RFR or RCT.
	RejectEnvelope string `json:"reject_envelope,omitempty"`
}

func (f *Faults) validate() error {
	var problems []error
	if f.Fail5xx < 0 || f.HTML < 0 || f.Hang < 0 || f.Latency < 0 || f.HangFor < 0 {
		problems = append(problems, errors.New("counts and durations must not be negative"))
	}
	for _, op := range f.Ops {
		switch op {
		case OpGetSeed, OpGetToken, OpUpload, OpGetEstUp, OpGetEstDte:
		default:
			problems = append(problems, fmt.Errorf("ops: unknown operation %q (getSeed, getToken, upload, getEstUp, getEstDte)", op))
		}
	}
	for _, m := range []map[string]string{f.Reject, f.Object} {
		for k := range m {
			if _, err := dtekey.Parse(k); err != nil {
				problems = append(problems, fmt.Errorf("reject/object: %w", err))
			}
		}
	}
	switch f.RejectEnvelope {
	case "", "RSC", "RFR", "RCT":
	default:
		problems = append(problems, fmt.Errorf("reject_envelope %q: want RSC, RFR or RCT", f.RejectEnvelope))
	}
	return errors.Join(problems...)
}

// merge adds the faults of g to f: counters and settings of g replace
// those of f when set, documents are added.
func (f *Faults) merge(g Faults) {
	if g.Latency != 0 {
		f.Latency = g.Latency
	}
	if g.Fail5xx != 0 {
		f.Fail5xx = g.Fail5xx
	}
	if g.HTML != 0 {
		f.HTML = g.HTML
	}
	if g.Hang != 0 {
		f.Hang = g.Hang
	}
	if g.HangFor != 0 {
		f.HangFor = g.HangFor
	}
	if g.Ops != nil {
		f.Ops = g.Ops
	}
	if g.RejectEnvelope != "" {
		f.RejectEnvelope = g.RejectEnvelope
	}
	for k, v := range g.Reject {
		if f.Reject == nil {
			f.Reject = map[string]string{}
		}
		f.Reject[k] = v
	}
	for k, v := range g.Object {
		if f.Object == nil {
			f.Object = map[string]string{}
		}
		f.Object[k] = v
	}
}

// clone returns a deep copy (the server hands copies out).
func (f Faults) clone() Faults {
	g := f
	g.Ops = append([]string(nil), f.Ops...)
	g.Reject = cloneMap(f.Reject)
	g.Object = cloneMap(f.Object)
	return g
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// fault is what one call gets.
type fault int

const (
	faultNone fault = iota
	faultHang
	fault5xx
	faultHTML
)

// take consumes the fault for one call of op, if any.
func (f *Faults) take(op string) fault {
	if len(f.Ops) > 0 && !contains(f.Ops, op) {
		return faultNone
	}
	switch {
	case f.Hang > 0:
		f.Hang--
		return faultHang
	case f.Fail5xx > 0:
		f.Fail5xx--
		return fault5xx
	case f.HTML > 0:
		f.HTML--
		return faultHTML
	}
	return faultNone
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Duration is a time.Duration written in JSON as "250ms", "2s" (a number
// is read as nanoseconds).
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		v, err := time.ParseDuration(str)
		if err != nil {
			return fmt.Errorf("duration %q: %w", str, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"250ms\"", s)
	}
	*d = Duration(n)
	return nil
}

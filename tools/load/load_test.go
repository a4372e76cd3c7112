package load

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/webhook"
)

const samplesDir = "../../samples/requests"

var secret = []byte("load-test-secret")

// enqueueStandIn checks what enqueue checks first (the signature, the JSON
// content type) and answers what answer says for the request's folio.
type enqueueStandIn struct {
	t      *testing.T
	answer func(folio int64) (status int, delay time.Duration)
	mu     sync.Mutex
	folios map[int64]int
}

func newStandIn(t *testing.T, answer func(int64) (int, time.Duration)) (*enqueueStandIn, *httptest.Server) {
	s := &enqueueStandIn{t: t, answer: answer, folios: map[int64]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *enqueueStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := webhook.Verify(secret, r.Header.Get(webhook.Header), body, time.Now(), webhook.DefaultWindow); err != nil {
		s.t.Errorf("a request with a bad signature: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("Content-Type %q", ct)
	}
	var req struct {
		Document struct {
			Folio int64 `json:"folio"`
		} `json:"document"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.t.Errorf("a body that is not JSON: %v", err)
		return
	}
	s.mu.Lock()
	s.folios[req.Document.Folio]++
	s.mu.Unlock()
	status, delay := s.answer(req.Document.Folio)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
}

func (s *enqueueStandIn) seen() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int, len(s.folios))
	for k, v := range s.folios {
		out[k] = v
	}
	return out
}

func mustBodies(t *testing.T, o SampleOptions) *Bodies {
	t.Helper()
	b, err := NewBodies(samplesDir, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunCountsEveryRequestOnce: the run offers exactly rate × duration
// requests, each due at i/rate, each with its own folio, each signed.
func TestRunCountsEveryRequestOnce(t *testing.T) {
	stand, srv := newStandIn(t, func(int64) (int, time.Duration) { return http.StatusAccepted, 0 })
	cfg := Config{URL: srv.URL, Secret: secret, Rate: 200, Duration: 500 * time.Millisecond, MaxInFlight: 50,
		Timeout: 5 * time.Second, Bodies: mustBodies(t, SampleOptions{FirstFolio: 1000})}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 100 || sum.Sent != 100 || sum.OK != 100 || sum.Failed() != 0 {
		t.Fatalf("offered %d, sent %d, ok %d, failed %d; want 100 each and none failed", sum.Requests, sum.Sent, sum.OK, sum.Failed())
	}
	seen := stand.seen()
	if len(seen) != 100 {
		t.Fatalf("the server saw %d distinct folios, want 100", len(seen))
	}
	for f := int64(1000); f < 1100; f++ {
		if seen[f] != 1 {
			t.Errorf("folio %d arrived %d times, want once", f, seen[f])
		}
	}
	if sum.LatencyMS.N != 100 || sum.LatencyMS.Max <= 0 {
		t.Errorf("latency over %d answers, max %.3fms", sum.LatencyMS.N, sum.LatencyMS.Max)
	}
	// The schedule: the last request is due at 99/200 s, so the sends
	// cannot be faster than the rate.
	if sum.SendRate > 200*1.01 {
		t.Errorf("sent at %.1f/s, faster than the offered 200/s", sum.SendRate)
	}
}

// TestDueTimes: request i is due at exactly i/rate from the start and is
// never sent before it.
func TestDueTimes(t *testing.T) {
	_, srv := newStandIn(t, func(int64) (int, time.Duration) { return http.StatusAccepted, 0 })
	cfg := Config{URL: srv.URL, Secret: secret, Rate: 400, Duration: 100 * time.Millisecond, MaxInFlight: 8,
		Timeout: 5 * time.Second, Bodies: mustBodies(t, SampleOptions{FirstFolio: 1})}
	_, outs, err := run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 40 {
		t.Fatalf("%d outcomes, want 40", len(outs))
	}
	for i, o := range outs {
		if want := time.Duration(i) * 2500 * time.Microsecond; o.Due != want {
			t.Errorf("request %d due at %s, want %s", i, o.Due, want)
		}
		if o.Sent < o.Due {
			t.Errorf("request %d sent at %s, before it was due (%s)", i, o.Sent, o.Due)
		}
		if o.Kind != KindOK || o.Status != http.StatusAccepted || o.Latency <= 0 {
			t.Errorf("request %d: %+v, want ok", i, o)
		}
	}
}

// TestSlowAnswersDoNotSlowTheSchedule: every answer takes 300 ms; with
// room in flight, the 40 requests due within 200 ms still all go out by
// then (a closed-loop client would take 40 × 300 ms), and their latencies
// are the server's 300 ms.
func TestSlowAnswersDoNotSlowTheSchedule(t *testing.T) {
	const delay = 300 * time.Millisecond
	_, srv := newStandIn(t, func(int64) (int, time.Duration) { return http.StatusAccepted, delay })
	cfg := Config{URL: srv.URL, Secret: secret, Rate: 200, Duration: 200 * time.Millisecond, MaxInFlight: 100,
		Timeout: 10 * time.Second, Bodies: mustBodies(t, SampleOptions{FirstFolio: 1})}
	start := time.Now()
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if sum.OK != 40 {
		t.Fatalf("%d accepted, want 40: %+v", sum.OK, sum.Errors)
	}
	// Generous bound: closed loop would need 12 s.
	if took > 4*time.Second {
		t.Errorf("the run took %s: the slow answers held the schedule back", took)
	}
	if sum.LatencyMS.P50 < ms(delay) {
		t.Errorf("p50 %.1fms, below the server's own %s", sum.LatencyMS.P50, delay)
	}
}

// TestLatencyCountsFromTheDueTime: with one request in flight at a time
// and 100 ms answers, request i (due at i × 10 ms) is sent only after the
// i before it were answered, about i × 100 ms in; its latency must include
// that wait (coordinated omission would report 100 ms for every request).
func TestLatencyCountsFromTheDueTime(t *testing.T) {
	const delay = 100 * time.Millisecond
	_, srv := newStandIn(t, func(int64) (int, time.Duration) { return http.StatusAccepted, delay })
	cfg := Config{URL: srv.URL, Secret: secret, Rate: 100, Duration: 100 * time.Millisecond, MaxInFlight: 1,
		Timeout: 10 * time.Second, Bodies: mustBodies(t, SampleOptions{FirstFolio: 1})}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != 10 {
		t.Fatalf("%d accepted, want 10: %+v", sum.OK, sum.Errors)
	}
	// The last request: due at 90 ms, sent after 9 answers (≥ 900 ms),
	// answered 100 ms later: at least 910 ms from its due time.
	if sum.LatencyMS.Max < 910 {
		t.Errorf("max latency %.1fms: the wait for a free slot is missing from it", sum.LatencyMS.Max)
	}
	if sum.Late < 9 {
		t.Errorf("%d requests counted late, want at least 9 (all but the first waited)", sum.Late)
	}
}

// TestErrorsByKind: refusals are counted by status, answers that do not
// come in time as timeouts, and a dead server as refused connections; the
// accepted ones are the rest.
func TestErrorsByKind(t *testing.T) {
	_, srv := newStandIn(t, func(folio int64) (int, time.Duration) {
		switch {
		case folio%10 == 3:
			return http.StatusServiceUnavailable, 0
		case folio%10 == 7:
			return http.StatusBadRequest, 0
		case folio%10 == 9:
			return http.StatusAccepted, time.Minute // past the timeout (the stand-in stops when the client gives up)
		}
		return http.StatusAccepted, 0
	})
	// The timeout leaves the quick answers ample time on a busy machine.
	cfg := Config{URL: srv.URL, Secret: secret, Rate: 500, Duration: 100 * time.Millisecond, MaxInFlight: 100,
		Timeout: 2 * time.Second, Bodies: mustBodies(t, SampleOptions{Types: []int{33, 61}, FirstFolio: 1})}
	sum, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Folios 1..50: five each end in 3, 7 and 9.
	want := map[string]int{"status 503": 5, "status 400": 5, "timeout": 5}
	if len(sum.Errors) != len(want) {
		t.Errorf("errors %v, want %v", sum.Errors, want)
	}
	for k, v := range want {
		if sum.Errors[k] != v {
			t.Errorf("errors[%q] = %d, want %d (all: %v)", k, sum.Errors[k], v, sum.Errors)
		}
	}
	if sum.OK != 35 || sum.Failed() != 15 || sum.Sent != 50 {
		t.Errorf("ok %d, failed %d, sent %d; want 35, 15, 50", sum.OK, sum.Failed(), sum.Sent)
	}
	// Latencies are over the answers: the timeouts have none.
	if sum.LatencyMS.N != 45 {
		t.Errorf("latency over %d answers, want 45", sum.LatencyMS.N)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	cfg.URL = url
	sum, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Errors["connection refused"] != 50 || sum.OK != 0 {
		t.Errorf("against a closed port: ok %d, errors %v; want 50 refused", sum.OK, sum.Errors)
	}
}

// TestCancel: cancelling stops the schedule; what was sent is reported.
func TestCancel(t *testing.T) {
	_, srv := newStandIn(t, func(int64) (int, time.Duration) { return http.StatusAccepted, 0 })
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	cfg := Config{URL: srv.URL, Secret: secret, Rate: 100, Duration: time.Minute, MaxInFlight: 10,
		Timeout: time.Second, Bodies: mustBodies(t, SampleOptions{FirstFolio: 1})}
	sum, err := Run(ctx, cfg)
	if err == nil {
		t.Fatal("no error from a cancelled run")
	}
	if sum == nil || sum.Sent == 0 || sum.Sent >= sum.Requests {
		t.Fatalf("summary %+v: want some of the %d requests sent", sum, cfg.Requests())
	}
}

func TestConfigErrors(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:1/", Rate: 10, Duration: time.Second, MaxInFlight: 1, Timeout: time.Second, Bodies: mustBodies(t, SampleOptions{FirstFolio: 1})}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "no URL"},
		{"zero rate", func(c *Config) { c.Rate = 0 }, "rate 0"},
		{"negative duration", func(c *Config) { c.Duration = -time.Second }, "duration -1s"},
		{"no slots", func(c *Config) { c.MaxInFlight = 0 }, "max in flight 0"},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, "timeout 0s"},
		{"no bodies", func(c *Config) { c.Bodies = nil }, "no request bodies"},
		{"nothing offered", func(c *Config) { c.Rate = 0.1 }, "offers no request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			_, err := Run(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestBodies: every body is a valid DTE request (as enqueue validates it)
// of the type asked for, with its own folio and move id, and the issuer
// asked for.
func TestBodies(t *testing.T) {
	v, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	b := mustBodies(t, SampleOptions{Types: []int{33, 34, 52, 56, 61}, Issuer: "96790240-3", FirstFolio: 9_999_999_990})
	if got := b.Types(); len(got) != 5 || got[0] != 33 || got[4] != 61 {
		t.Fatalf("types %v", got)
	}
	for i := range 10 {
		r, err := v.Parse(b.Body(i))
		if err != nil {
			t.Fatalf("body %d is not a valid request: %v", i, err)
		}
		if want := []int{33, 34, 52, 56, 61}[i%5]; r.Document.Type != want {
			t.Errorf("body %d: type %d, want %d", i, r.Document.Type, want)
		}
		if r.Document.Folio != 9_999_999_990+int64(i) || r.Odoo.MoveID != r.Document.Folio {
			t.Errorf("body %d: folio %d, move id %d", i, r.Document.Folio, r.Odoo.MoveID)
		}
		if r.Issuer.RUT != "96790240-3" {
			t.Errorf("body %d: issuer %s", i, r.Issuer.RUT)
		}
	}
	all := mustBodies(t, SampleOptions{FirstFolio: 1})
	if got := all.Types(); len(got) != 5 {
		t.Errorf("no types asked for: %v, want the five samples", got)
	}
}

func TestBodiesErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		dir  string
		o    SampleOptions
		want string
	}{
		{"no samples", t.TempDir(), SampleOptions{FirstFolio: 1}, "no sample requests"},
		{"unknown type", samplesDir, SampleOptions{Types: []int{39}, FirstFolio: 1}, "no sample request of type 39"},
		{"folio zero", samplesDir, SampleOptions{FirstFolio: 0}, "first folio 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewBodies(c.dir, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		in   []time.Duration
		want Pcts
	}{
		{ds, Pcts{N: 100, P50: 50, P95: 95, P99: 99, Max: 100}},
		{[]time.Duration{7 * time.Millisecond}, Pcts{N: 1, P50: 7, P95: 7, P99: 7, Max: 7}},
		{[]time.Duration{3 * time.Millisecond, time.Millisecond}, Pcts{N: 2, P50: 1, P95: 3, P99: 3, Max: 3}},
		{nil, Pcts{}},
	} {
		if got := percentiles(c.in); got != c.want {
			t.Errorf("percentiles(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestSummaryOutput(t *testing.T) {
	s := &Summary{URL: "http://x/", Rate: 500, DurationS: 60, MaxInFlight: 256, Requests: 3, Sent: 3, OK: 2,
		Errors: map[string]int{"timeout": 1}, LatencyMS: Pcts{N: 2, P50: 1.5, P95: 2, P99: 2, Max: 2}, LoadBefore: "1.00, 1.00, 1.00", LoadAfter: "unknown"}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"p99 2.00ms", "errors    1 (timeout: 1)", "load      before 1.00, 1.00, 1.00"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal([]byte(b.String()), &back); err != nil {
		t.Fatal(err)
	}
	if back.LatencyMS != s.LatencyMS || back.Errors["timeout"] != 1 || back.OK != 2 {
		t.Errorf("JSON round trip: %+v", back)
	}
}

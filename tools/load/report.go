package load

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// Summary is a run's report (JSON with `dte load -json`).
type Summary struct {
	URL            string         `json:"url"`
	Rate           float64        `json:"rate"`       // offered, requests per second
	DurationS      float64        `json:"duration_s"` // the schedule's length
	MaxInFlight    int            `json:"max_in_flight"`
	Requests       int            `json:"requests"`  // offered: Rate × Duration
	Sent           int            `json:"sent"`      // sent (fewer only when the run was cancelled)
	SendRate       float64        `json:"send_rate"` // sent per second, first due time to last send
	OK             int            `json:"ok"`        // answered 202
	OKRate         float64        `json:"ok_rate"`   // 202s per second, start to the last answer
	ElapsedS       float64        `json:"elapsed_s"` // start to the last answer
	Late           int            `json:"late"`      // sent more than LateMS after their due time
	LateMS         float64        `json:"late_ms"`
	SendLagMS      Pcts           `json:"send_lag_ms"`      // sent minus due
	LatencyMS      Pcts           `json:"latency_ms"`       // due time to the end of the answer, requests with an answer
	Errors         map[string]int `json:"errors"`           // by kind: "status 503", "timeout", …
	GeneratorCPUMS float64        `json:"generator_cpu_ms"` // this generator's CPU time per request sent
	LoadBefore     string         `json:"load_before"`      // load averages (1, 5, 15 min)
	LoadAfter      string         `json:"load_after"`
}

// Pcts are percentiles of a set of durations, in milliseconds.
type Pcts struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentiles uses the nearest rank: the smallest value with at least p
// of the set at or below it.
func percentiles(ds []time.Duration) Pcts {
	if len(ds) == 0 {
		return Pcts{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) float64 {
		k := int(p*float64(len(s))+0.999999999) - 1
		k = min(max(k, 0), len(s)-1)
		return ms(s[k])
	}
	return Pcts{N: len(s), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func summarize(c Config, outs []Outcome, offered int, end, late time.Duration, before, after string) *Summary {
	s := &Summary{
		URL: c.URL, Rate: c.Rate, DurationS: c.Duration.Seconds(), MaxInFlight: c.MaxInFlight,
		Requests: offered, Sent: len(outs), ElapsedS: end.Seconds(), LateMS: ms(late),
		Errors: map[string]int{}, LoadBefore: before, LoadAfter: after,
	}
	var lags, lat []time.Duration
	var lastSend time.Duration
	for _, o := range outs {
		lag := o.Sent - o.Due
		lags = append(lags, lag)
		if lag > late {
			s.Late++
		}
		lastSend = max(lastSend, o.Sent)
		if o.Status != 0 {
			lat = append(lat, o.Latency)
		}
		if o.Kind == KindOK {
			s.OK++
		} else {
			s.Errors[o.Kind]++
		}
	}
	if len(outs) > 1 && lastSend > 0 {
		s.SendRate = float64(len(outs)-1) / lastSend.Seconds()
	}
	if end > 0 {
		s.OKRate = float64(s.OK) / end.Seconds()
	}
	s.SendLagMS, s.LatencyMS = percentiles(lags), percentiles(lat)
	return s
}

// Failed is how many requests were not accepted.
func (s *Summary) Failed() int {
	n := 0
	for _, v := range s.Errors {
		n += v
	}
	return n
}

// WriteText prints the summary for a person.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "offered   %d requests at %g/s for %gs to %s (at most %d in flight)\n", s.Requests, s.Rate, s.DurationS, s.URL, s.MaxInFlight)
	fmt.Fprintf(&b, "sent      %d at %.1f/s; %d started more than %gms late (send lag p99 %.2fms, max %.2fms)\n",
		s.Sent, s.SendRate, s.Late, s.LateMS, s.SendLagMS.P99, s.SendLagMS.Max)
	fmt.Fprintf(&b, "accepted  %d (202) at %.1f/s, last answer after %.2fs\n", s.OK, s.OKRate, s.ElapsedS)
	l := s.LatencyMS
	fmt.Fprintf(&b, "latency   p50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms  (%d answers, from each request's due time)\n", l.P50, l.P95, l.P99, l.Max, l.N)
	if len(s.Errors) == 0 {
		b.WriteString("errors    none\n")
	} else {
		kinds := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf("%s: %d", k, s.Errors[k])
		}
		fmt.Fprintf(&b, "errors    %d (%s)\n", s.Failed(), strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "load      before %s; after %s (1, 5, 15 min); the generator used %.3fms of CPU per request\n", s.LoadBefore, s.LoadAfter, s.GeneratorCPUMS)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the summary as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(s)
}

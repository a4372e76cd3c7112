// Package load drives enqueue from outside at a fixed rate, the way Odoo
// would (HMAC-signed DTE requests over HTTP), and measures it: `dte load`.
//
// It is an open-loop generator: request i is due at start + i/rate,
// whatever happened to the requests before it, and its latency is taken
// from that due time, not from when it was actually sent. A slow answer
// therefore never hides the requests that should have been sent meanwhile
// (no coordinated omission): if the server stalls, the requests due during
// the stall still go out on time (up to the in-flight cap) and their
// latencies show the stall. At the cap, a request waits for a free slot and
// that wait counts in its latency; the report says how many started late.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/dtecl/pipeline/shared/webhook"
	"github.com/dtecl/pipeline/tools/machine"
)

// Config is one load run.
type Config struct {
	URL         string        // enqueue's URL
	Secret      []byte        // ENQUEUE_SECRET, for X-DTE-Signature
	Rate        float64       // requests per second, > 0
	Duration    time.Duration // how long to offer them: Rate × Duration requests
	MaxInFlight int           // at most this many requests open at once, > 0
	Timeout     time.Duration // per request, from when it is sent
	Bodies      BodySource
	// Client sends the requests; nil: a client with a connection pool
	// sized to MaxInFlight.
	Client *http.Client
	// Late is how far behind its due time a request may start before it
	// counts as late (the generator or the cap held it back); 0: 1 ms.
	Late time.Duration
}

// BodySource makes the body of request i.
type BodySource interface {
	Body(i int) []byte
}

// Outcome is what happened to one request.
type Outcome struct {
	Due     time.Duration // when it was due, from the start
	Sent    time.Duration // when it was sent, from the start
	Latency time.Duration // from its due time to the end of the answer (or the failure)
	Status  int           // the HTTP status; 0 when there was no answer
	Kind    string        // "ok" for 202, else the error kind: "status 503", "timeout", "connection refused", …
}

// Requests is how many requests a run offers.
func (c Config) Requests() int {
	return int(math.Round(c.Rate * c.Duration.Seconds()))
}

func (c Config) validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("no URL"))
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate %g: must be a positive number of requests per second", c.Rate))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %s: must be positive", c.Duration))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max in flight %d: must be at least 1", c.MaxInFlight))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %s: must be positive", c.Timeout))
	}
	if c.Bodies == nil {
		errs = append(errs, errors.New("no request bodies"))
	}
	if len(errs) == 0 && c.Requests() < 1 {
		errs = append(errs, fmt.Errorf("rate %g for %s offers no request", c.Rate, c.Duration))
	}
	return errors.Join(errs...)
}

// Run offers the requests on schedule and waits for every answer (or its
// timeout). Cancelling ctx stops the schedule; requests already sent are
// cancelled too and count as "cancelled".
func Run(ctx context.Context, c Config) (*Summary, error) {
	s, _, err := run(ctx, c)
	return s, err
}

// run is Run, also returning each sent request's outcome, by index.
func run(ctx context.Context, c Config) (*Summary, []Outcome, error) {
	if err := c.validate(); err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	client := c.Client
	if client == nil {
		client = newClient(c.MaxInFlight)
		defer client.CloseIdleConnections()
	}
	late := c.Late
	if late <= 0 {
		late = time.Millisecond
	}
	n := c.Requests()
	outcomes := make([]Outcome, n)
	slots := make(chan struct{}, c.MaxInFlight)
	var wg sync.WaitGroup
	loadBefore := machine.LoadAverage()
	cpu0 := cpuTime()
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	timer.Stop() // armed by Reset before each wait
	defer timer.Stop()
	sent := 0
schedule:
	for i := range n {
		// Due times come from i, never from the previous send: a stall
		// does not shift the schedule.
		due := time.Duration(float64(i) / c.Rate * float64(time.Second))
		if wait := due - time.Since(start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break schedule
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break schedule
		}
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			outcomes[i] = c.send(ctx, client, start, due, i)
		}()
	}
	wg.Wait()
	end := time.Since(start)
	outcomes = outcomes[:sent]
	s := summarize(c, outcomes, n, end, late, loadBefore, machine.LoadAverage())
	if sent > 0 {
		s.GeneratorCPUMS = ms(cpuTime()-cpu0) / float64(sent)
	}
	return s, outcomes, ctx.Err()
}

// send makes request i, due at due, and times it from then.
func (c Config) send(ctx context.Context, client *http.Client, start time.Time, due time.Duration, i int) Outcome {
	o := Outcome{Due: due, Sent: time.Since(start)}
	body := c.Bodies.Body(i)
	rctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		o.Kind = "request: " + err.Error()
		o.Latency = time.Since(start) - due
		return o
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.Header, webhook.Sign(c.Secret, time.Now(), body))
	resp, err := client.Do(req)
	if err == nil {
		// The answer counts once it is read whole, as a client would.
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		o.Status = resp.StatusCode
	}
	o.Latency = time.Since(start) - due
	switch {
	case err != nil:
		o.Kind = errorKind(ctx, rctx, err)
	case o.Status == http.StatusAccepted:
		o.Kind = KindOK
	default:
		o.Kind = fmt.Sprintf("status %d", o.Status)
	}
	return o
}

// KindOK is the kind of a request enqueue accepted (202).
const KindOK = "ok"

// errorKind names a failure for the report: the few kinds worth telling
// apart, not every message.
func errorKind(ctx, rctx context.Context, err error) string {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return "cancelled"
	case errors.Is(rctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "transport error"
}

// newClient is an HTTP client that keeps up to n connections open to the
// server, so that n requests in flight do not open and close connections.
func newClient(n int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = n
	t.MaxIdleConnsPerHost = n
	t.MaxConnsPerHost = n
	t.DisableCompression = true
	return &http.Client{Transport: t}
}

// cpuTime is the CPU time this process has used so far: the generator's
// own cost, reported so that a saturated generator shows.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

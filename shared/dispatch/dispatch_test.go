package dispatch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

// scripted is a function that answers each delivery of a message with the
// next status of its script (the last one repeats) and records the calls.
type scripted struct {
	mu      sync.Mutex
	script  []int
	calls   []call
	arrived chan struct{}
}

type call struct {
	at      time.Time
	attempt string
	ceType  string
	ext     map[string]string
}

func newScripted(statuses ...int) *scripted {
	return &scripted{script: statuses, arrived: make(chan struct{}, 100)}
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.calls)
	s.calls = append(s.calls, call{
		at: time.Now(), attempt: r.Header.Get(delivery.HeaderAttempt), ceType: r.Header.Get("Ce-Type"),
		ext: map[string]string{"deadqueue": r.Header.Get("Ce-Deadqueue"), "deadreason": r.Header.Get("Ce-Deadreason"), "deadattempts": r.Header.Get("Ce-Deadattempts")},
	})
	status := s.script[min(n, len(s.script)-1)]
	s.mu.Unlock()
	w.WriteHeader(status)
	s.arrived <- struct{}{}
}

func (s *scripted) snapshot() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

type env struct {
	url string
	ch  *amqp.Channel
	pub *bus.Publisher
}

func setup(t *testing.T) env {
	t.Helper()
	url := bustest.VHost(t)
	ch := bustest.Channel(t, url)
	if err := bus.Declaration().Declare(ch); err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(bus.PublisherConfig{URL: url})
	t.Cleanup(func() { pub.Close() })
	return env{url: url, ch: ch, pub: pub}
}

// run starts a dispatcher of routes (1 s between attempts) until the test
// ends.
func (e env) run(t *testing.T, routes ...Route) {
	t.Helper()
	t.Cleanup(e.start(t, Config{Routes: routes, Backoff: []time.Duration{time.Second}}))
}

// start runs a dispatcher of cfg on the test's broker; stop ends it and
// fails the test unless Run returns nil within 30 s.
func (e env) start(t *testing.T, cfg Config) (stop func()) {
	t.Helper()
	cfg.URL = e.url
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	}
}

func (e env) publishEvent(t *testing.T) events.Event {
	t.Helper()
	k, _ := dtekey.Parse("76086428-5-33-9")
	ev, err := events.New("ev-"+t.Name(), events.TypeRequested, events.SourceEnqueue, k, map[string]any{"odoo": map[string]any{"database": "odoo", "move_id": 1}})
	if err != nil {
		t.Fatal(err)
	}
	e.publish(t, bus.QueueSign, ev)
	return ev
}

// publish puts ev in queue q.
func (e env) publish(t *testing.T, q string, ev events.Event) {
	t.Helper()
	msg, err := bus.Message(ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(context.Background(), "", q, msg); err != nil {
		t.Fatal(err)
	}
}

func (e env) depth(t *testing.T, q string) int {
	t.Helper()
	info, err := e.ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return info.Messages
}

func waitCalls(t *testing.T, s *scripted, n int) []call {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for len(s.snapshot()) < n {
		select {
		case <-s.arrived:
		case <-timeout:
			t.Fatalf("got %d calls, want %d", len(s.snapshot()), n)
		}
	}
	return s.snapshot()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("never: " + what)
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fn := newScripted(503, 502, 200)
	srv := httptest.NewServer(fn)
	defer srv.Close()
	e.publishEvent(t)
	e.run(t, Route{Queue: bus.QueueSign, URL: srv.URL})
	calls := waitCalls(t, fn, 3)
	for i, c := range calls {
		if c.attempt != []string{"1", "2", "3"}[i] || c.ceType != events.TypeRequested {
			t.Fatalf("call %d: attempt %q type %q", i, c.attempt, c.ceType)
		}
		if i > 0 && c.at.Sub(calls[i-1].at) < 900*time.Millisecond {
			t.Fatalf("attempt %d came %s after the previous one: no backoff", i+1, c.at.Sub(calls[i-1].at))
		}
	}
	eventually(t, "queue empty", func() bool { return e.depth(t, bus.QueueSign) == 0 })
	time.Sleep(1500 * time.Millisecond)
	if n := len(fn.snapshot()); n != 3 {
		t.Fatalf("%d deliveries after success, want 3", n)
	}
	if e.depth(t, bus.QueueDead) != 0 {
		t.Fatal("a delivered message was dead-lettered")
	}
}

func TestDeadLetterAfterAttempts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fn := newScripted(503)
	srv := httptest.NewServer(fn)
	defer srv.Close()
	ev := e.publishEvent(t)
	e.run(t, Route{Queue: bus.QueueSign, URL: srv.URL})
	waitCalls(t, fn, 3)
	eventually(t, "dead letter in dte.dead and dte.dead.parked", func() bool {
		return e.depth(t, bus.QueueDead) == 1 && e.depth(t, bus.QueueDeadParked) == 1
	})
	time.Sleep(1500 * time.Millisecond)
	if n := len(fn.snapshot()); n != 3 {
		t.Fatalf("%d deliveries, want exactly 3", n)
	}
	d, ok, err := e.ch.Get(bus.QueueDead, true)
	if err != nil || !ok {
		t.Fatal(err)
	}
	if d.MessageId != ev.ID() || d.Headers[HeaderDeadQueue] != bus.QueueSign || d.Headers[HeaderDeadReason] == nil {
		t.Fatalf("dead letter id %q headers %v", d.MessageId, d.Headers)
	}
}

func TestNonRetryableIsDeadAtOnce(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 422, 500} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := setup(t)
			fn := newScripted(status)
			srv := httptest.NewServer(fn)
			defer srv.Close()
			e.publishEvent(t)
			e.run(t, Route{Queue: bus.QueueSign, URL: srv.URL})
			eventually(t, "dead-lettered", func() bool { return e.depth(t, bus.QueueDead) == 1 })
			if n := len(fn.snapshot()); n != 1 {
				t.Fatalf("%d deliveries for a %d, want 1", n, status)
			}
		})
	}
}

func TestPoisonMessageDiesAndNeverLoops(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fn := newScripted(400)
	srv := httptest.NewServer(fn)
	defer srv.Close()
	if err := e.pub.Publish(context.Background(), bus.ExchangeDirect, events.TypeRequested, amqp.Publishing{ContentType: "text/plain", Body: []byte("garbage")}); err != nil {
		t.Fatal(err)
	}
	dead := newScripted(503) // notify's /dead failing too
	deadSrv := httptest.NewServer(dead)
	defer deadSrv.Close()
	e.run(t, Route{Queue: bus.QueueSign, URL: srv.URL}, Route{Queue: bus.QueueDead, URL: deadSrv.URL})
	waitCalls(t, dead, 3)
	eventually(t, "dte.dead drained", func() bool { return e.depth(t, bus.QueueDead) == 0 })
	time.Sleep(2500 * time.Millisecond)
	if n := len(dead.snapshot()); n != 3 {
		t.Fatalf("dead letter delivered %d times, want 3 then dropped", n)
	}
	if e.depth(t, bus.QueueDeadParked) != 1 {
		t.Fatal("the parked copy of the poison message is gone")
	}
}

func TestDeadLetterExtensionsReachNotify(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fn := newScripted(503)
	srv := httptest.NewServer(fn)
	defer srv.Close()
	dead := newScripted(200)
	deadSrv := httptest.NewServer(dead)
	defer deadSrv.Close()
	e.publishEvent(t)
	e.run(t, Route{Queue: bus.QueueSign, URL: srv.URL}, Route{Queue: bus.QueueDead, URL: deadSrv.URL})
	calls := waitCalls(t, dead, 1)
	if calls[0].ceType != events.TypeRequested || calls[0].ext["deadqueue"] != bus.QueueSign || calls[0].ext["deadreason"] == "" {
		t.Fatalf("notify /dead got %+v", calls[0])
	}
	if calls[0].ext["deadattempts"] != "3" {
		t.Fatalf("notify /dead is not told the 3 deliveries: %+v", calls[0])
	}
}

// TestRunStopsWithManyWorkers: Run returns after its context ends, however
// many workers consume (each used to report its end on a small channel).
func TestRunStopsWithManyWorkers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	srv := httptest.NewServer(newScripted(200))
	defer srv.Close()
	stop := e.start(t, Config{Routes: []Route{
		{Queue: bus.QueueSign, URL: srv.URL, Parallelism: 8},
		{Queue: bus.QueueSubmit, URL: srv.URL, Parallelism: 8},
	}})
	time.Sleep(500 * time.Millisecond)
	stop()
}

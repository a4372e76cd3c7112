package dispatch

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

// orderRecorder is a function that takes a while per delivery and records,
// per document, the sequence numbers in the order they arrived, how many
// deliveries it had at once, and whether one document ever had two.
type orderRecorder struct {
	mu          sync.Mutex
	seen        map[string][]int
	busy        map[string]bool
	inFlight    int
	maxInFlight int
	overlap     []string
	total       int
	done        chan struct{}
	want        int
}

func (o *orderRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	doc := r.Header.Get("Ce-Dtekey")
	seq, err := strconv.Atoi(r.Header.Get("Ce-Subject"))
	if err != nil {
		http.Error(w, "no sequence in ce-subject", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	if o.busy[doc] {
		o.overlap = append(o.overlap, doc)
	}
	o.busy[doc] = true
	o.inFlight++
	o.maxInFlight = max(o.maxInFlight, o.inFlight)
	o.seen[doc] = append(o.seen[doc], seq)
	o.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	o.mu.Lock()
	o.busy[doc] = false
	o.inFlight--
	o.total++
	if o.total == o.want {
		close(o.done)
	}
	o.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func TestOrderDocumentKeepsEachDocumentsOrder(t *testing.T) {
	t.Parallel()
	const docs, perDoc = 6, 8
	e := setup(t)
	rec := &orderRecorder{seen: map[string][]int{}, busy: map[string]bool{}, done: make(chan struct{}), want: docs * perDoc}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	// Each document's events one after the other, the hardest case: a
	// route without per-document order hands them to several workers at
	// once.
	for d := 0; d < docs; d++ {
		for seq := 0; seq < perDoc; seq++ {
			k, err := dtekey.Parse(fmt.Sprintf("76086428-5-33-%d", 100+d))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := events.New(fmt.Sprintf("ev-%d-%d", d, seq), events.TypeSubmitted, events.SourceSubmit, k, map[string]any{"trackid": "1"})
			if err != nil {
				t.Fatal(err)
			}
			ev.SetSubject(strconv.Itoa(seq))
			e.publish(t, bus.QueueNotify, ev)
		}
	}
	e.run(t, Route{Queue: bus.QueueNotify, URL: srv.URL, Parallelism: 4, Order: OrderDocument})
	select {
	case <-rec.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("delivered %d of %d", rec.total, rec.want)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.overlap) > 0 {
		t.Errorf("documents delivered twice at once: %v", rec.overlap)
	}
	if len(rec.seen) != docs {
		t.Errorf("saw %d documents, want %d", len(rec.seen), docs)
	}
	for doc, seqs := range rec.seen {
		for i, s := range seqs {
			if s != i {
				t.Errorf("%s arrived in the order %v, want 0..%d", doc, seqs, perDoc-1)
				break
			}
		}
	}
	// Six documents over four lanes: at least two lanes hold a document.
	if rec.maxInFlight < 2 {
		t.Errorf("at most %d deliveries at once, want several documents in parallel", rec.maxInFlight)
	}
	if rec.maxInFlight > 4 {
		t.Errorf("%d deliveries at once, over the route's parallelism 4", rec.maxInFlight)
	}
}

func TestOrderIsChecked(t *testing.T) {
	t.Parallel()
	_, err := New(Config{URL: "amqp://127.0.0.1:1/", Routes: []Route{{Queue: bus.QueueNotify, URL: "http://127.0.0.1:1/", Order: "dtekey"}}})
	if err == nil {
		t.Fatal("New accepted order \"dtekey\"")
	}
}

func TestLaneOfIsStableAndSpreads(t *testing.T) {
	t.Parallel()
	used := map[int]bool{}
	for i := 0; i < 100; i++ {
		doc := fmt.Sprintf("76086428-5-33-%d", i)
		l := laneOf(doc, 4)
		if l != laneOf(doc, 4) || l < 0 || l >= 4 {
			t.Fatalf("laneOf(%q, 4) = %d, not stable or out of range", doc, l)
		}
		used[l] = true
	}
	if len(used) != 4 {
		t.Errorf("100 documents used %d of 4 lanes", len(used))
	}
}

// When the dispatcher stops, what waits in a lane is not posted: it stays
// unacknowledged and the broker keeps it, in order, for the next consumer.
func TestOrderDocumentStopLeavesTheLaneToTheBroker(t *testing.T) {
	t.Parallel()
	const n = 8
	e := setup(t)
	var mu sync.Mutex
	calls := 0
	first := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		if calls == 1 {
			close(first)
		}
		mu.Unlock()
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	k, err := dtekey.Parse("76086428-5-33-200")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ { // one document: one lane
		ev, err := events.New(fmt.Sprintf("ev-stop-%d", i), events.TypeSubmitted, events.SourceSubmit, k, map[string]any{"trackid": "1"})
		if err != nil {
			t.Fatal(err)
		}
		e.publish(t, bus.QueueNotify, ev)
	}
	stop := e.start(t, Config{Routes: []Route{{Queue: bus.QueueNotify, URL: srv.URL, Parallelism: 4, Order: OrderDocument}}})
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("nothing delivered")
	}
	stop()
	mu.Lock()
	posted := calls
	mu.Unlock()
	if posted != 1 {
		t.Errorf("%d deliveries posted after the stop began, want only the one in hand", posted)
	}
	eventually(t, fmt.Sprintf("%d messages back in %s", n-posted, bus.QueueNotify), func() bool { return e.depth(t, bus.QueueNotify) == n-posted })
}

// A retry on a route that keeps each document's order is held in its lane:
// the document's later messages wait for it (through the delay queues they
// would overtake it, and Odoo would drop the earlier status). Both ways a
// route can keep order are covered: lanes, and one delivery at a time.
func TestOrderDocumentRetryHoldsTheLane(t *testing.T) {
	t.Parallel()
	for _, par := range []int{1, 4} {
		t.Run(fmt.Sprintf("parallelism %d", par), func(t *testing.T) {
			t.Parallel()
			const n = 4
			e := setup(t)
			var mu sync.Mutex
			var arrivals []string // "seq/attempt"
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				seq, attempt := r.Header.Get("Ce-Subject"), r.Header.Get(delivery.HeaderAttempt)
				arrivals = append(arrivals, seq+"/"+attempt)
				if seq == "0" && attempt == "1" {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusAccepted)
				if seq == strconv.Itoa(n-1) {
					close(done)
				}
			}))
			defer srv.Close()
			k, err := dtekey.Parse("76086428-5-33-300")
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				ev, err := events.New(fmt.Sprintf("ev-held-%d", i), events.TypeSubmitted, events.SourceSubmit, k, map[string]any{"trackid": "1"})
				if err != nil {
					t.Fatal(err)
				}
				ev.SetSubject(strconv.Itoa(i))
				e.publish(t, bus.QueueNotify, ev)
			}
			e.run(t, Route{Queue: bus.QueueNotify, URL: srv.URL, Parallelism: par, Order: OrderDocument})
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the last message never arrived")
			}
			mu.Lock()
			got := strings.Join(arrivals, " ")
			mu.Unlock()
			if want := "0/1 0/2 1/1 2/1 3/1"; got != want {
				t.Errorf("arrivals (sequence/attempt) %s, want %s", got, want)
			}
			eventually(t, "queue empty", func() bool { return e.depth(t, bus.QueueNotify) == 0 })
			if d := e.depth(t, bus.QueueDead); d != 0 {
				t.Errorf("%d dead letters", d)
			}
		})
	}
}

// A dispatcher that stops while it holds a retry does not wait out the
// backoff, and the message is not lost: it goes back to its queue, ahead
// of the document's later messages, for the next consumer.
func TestOrderDocumentStopDuringAHeldRetry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const backoff = 30 * time.Second
	fn := newScripted(http.StatusServiceUnavailable, http.StatusAccepted)
	srv := httptest.NewServer(fn)
	defer srv.Close()
	k, err := dtekey.Parse("76086428-5-33-301")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		ev, err := events.New(fmt.Sprintf("ev-held-stop-%d", i), events.TypeSubmitted, events.SourceSubmit, k, map[string]any{"trackid": "1"})
		if err != nil {
			t.Fatal(err)
		}
		e.publish(t, bus.QueueNotify, ev)
	}
	stop := e.start(t, Config{Routes: []Route{{Queue: bus.QueueNotify, URL: srv.URL, Parallelism: 4, Order: OrderDocument}}, Backoff: []time.Duration{backoff}})
	waitCalls(t, fn, 1)
	began := time.Now()
	stop()
	if took := time.Since(began); took > backoff/2 {
		t.Errorf("stopping took %s: the held backoff was waited out", took)
	}
	eventually(t, "both messages back in "+bus.QueueNotify, func() bool { return e.depth(t, bus.QueueNotify) == 2 })
	if n := len(fn.snapshot()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	// The next consumer gets the held message first.
	msg, ok, err := e.ch.Get(bus.QueueNotify, false)
	if err != nil || !ok {
		t.Fatalf("get from %s: %v (a message: %v)", bus.QueueNotify, err, ok)
	}
	if msg.MessageId != "ev-held-stop-0" {
		t.Errorf("the next consumer gets %s first, want ev-held-stop-0", msg.MessageId)
	}
	_ = msg.Nack(false, true)
}

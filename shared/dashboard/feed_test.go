package dashboard

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/events"
)

// broker is a vhost of the test's own with the topology declared.
type broker struct {
	url string
	ch  *amqp.Channel
}

func newBroker(t *testing.T) broker {
	t.Helper()
	url := bustest.VHost(t)
	ch := bustest.Channel(t, url)
	if err := bus.Declaration().Declare(ch); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	return broker{url: url, ch: ch}
}

func (b broker) publish(t *testing.T, exchange, key string, msg amqp.Publishing) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dc, err := b.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); !ok || err != nil {
		t.Fatalf("publish not confirmed: %v", err)
	}
}

func (b broker) depth(t *testing.T, q string) int {
	t.Helper()
	info, err := b.ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return info.Messages
}

func waitUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s: %s", what, detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFeed publishes a document's events, a dead letter and an unreadable
// message the way the pipeline does; the feed stores all of it and only
// then acknowledges: the queue ends empty and the projection has it all.
func TestFeed(t *testing.T) {
	b := newBroker(t)
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	feed := NewFeed(FeedConfig{URL: b.url, MaxWait: 20 * time.Millisecond}, s)
	done := make(chan error, 1)
	go func() { done <- feed.Run(ctx) }()
	defer func() { cancel(); <-done }()

	const key = "76086428-5-33-1042"
	k := mustKey(t, key)
	for _, f := range []struct {
		typ  string
		data any
	}{
		{events.TypeRequested, map[string]any{"receiver": map[string]any{"rut": "77654321-7"}}},
		{events.TypeSigned, events.Signed{DTEKey: key, ArchiveKey: "dte/76086428-5/33/1042.xml"}},
		{events.TypeSubmitted, events.Submitted{DTEKey: key, TrackID: "7"}},
	} {
		e, err := events.New(key+"."+f.typ, f.typ, "/test", k, f.data)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := bus.Message(e)
		if err != nil {
			t.Fatal(err)
		}
		b.publish(t, bus.ExchangeDirect, e.Type(), msg)
	}
	// A retry for one queue only (routing key = the queue's name) is not
	// the dashboard's: it saw the event already.
	b.publish(t, bus.ExchangeDirect, bus.QueueSubmit, amqp.Publishing{Body: []byte("retry")})
	dead, _ := events.New(key+".dead", events.TypeSigned, "/test", k, events.Signed{DTEKey: key, ArchiveKey: "dte/x.xml"})
	msg, _ := bus.Message(dead)
	msg.Headers = amqp.Table{dispatch.HeaderDeadQueue: bus.QueueSubmit, dispatch.HeaderDeadReason: "HTTP 503: SII", dispatch.HeaderDeadAt: time.Now().UTC().Format(time.RFC3339)}
	b.publish(t, bus.ExchangeDLX, bus.QueueSubmit, msg)
	b.publish(t, bus.ExchangeDirect, events.TypeFailed, amqp.Publishing{Body: []byte("not an event")})

	waitUntil(t, "the projection to have every message", func() (bool, string) {
		p, err := s.Project(context.Background(), time.Now(), time.Hour)
		if err != nil {
			return false, err.Error()
		}
		return p.Facts == 4 && p.Unreadable == 1 && p.DeadParked == 1, fmt.Sprintf("facts %d, unreadable %d, dead %d", p.Facts, p.Unreadable, p.DeadParked)
	})
	waitUntil(t, "the queue acknowledged", func() (bool, string) {
		n := b.depth(t, bus.QueueDashboard)
		return n == 0, fmt.Sprintf("%d messages in %s", n, bus.QueueDashboard)
	})
	d, err := s.Document(context.Background(), k)
	if err != nil || d.Status != "error" || d.Receiver != "77654321-7" {
		t.Errorf("document: %+v, %v", d, err)
	}
	if st := feed.Status(); !st.Connected {
		t.Errorf("feed status: %+v", st)
	}
}

// TestFeedKeepsWhatItCannotStore: with the database gone, every message
// goes back to the queue (nothing acknowledged, nothing lost); a feed with
// a working database then stores them.
func TestFeedKeepsWhatItCannotStore(t *testing.T) {
	b := newBroker(t)
	broken := openStore(t)
	broken.w.Close() // every Apply fails
	const n = 5
	for i := range n {
		k := mustKey(t, fmt.Sprintf("76086428-5-33-%d", i+1))
		e, _ := events.New(fmt.Sprintf("ev-%d", i), events.TypeRequested, "/test", k, map[string]any{})
		msg, _ := bus.Message(e)
		b.publish(t, bus.ExchangeDirect, e.Type(), msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	feed := NewFeed(FeedConfig{URL: b.url, MaxWait: 10 * time.Millisecond}, broken)
	done := make(chan error, 1)
	go func() { done <- feed.Run(ctx) }()
	waitUntil(t, "the feed to report the failure", func() (bool, string) {
		st := feed.Status()
		return st.LastError != "", fmt.Sprintf("%+v", st)
	})
	cancel()
	<-done
	waitUntil(t, "the messages back in the queue", func() (bool, string) {
		got := b.depth(t, bus.QueueDashboard)
		return got == n, fmt.Sprintf("%d of %d in the queue", got, n)
	})
	good := openStore(t)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() { _ = NewFeed(FeedConfig{URL: b.url, MaxWait: 10 * time.Millisecond}, good).Run(ctx2) }()
	waitUntil(t, "the messages stored by a working feed", func() (bool, string) {
		p, _ := good.Project(context.Background(), time.Now(), time.Hour)
		return p.Documents == n, fmt.Sprintf("%d documents", p.Documents)
	})
}

// TestReplayFromTheAPI parks a dead letter the way the dispatcher does
// (through dte.dlx), lets the feed project it, and replays it with the
// operator's token: the message goes back to the queue it died in, leaves
// dte.dead.parked, and the page no longer lists it.
func TestReplayFromTheAPI(t *testing.T) {
	b := newBroker(t)
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = NewFeed(FeedConfig{URL: b.url, MaxWait: 10 * time.Millisecond}, s).Run(ctx) }()
	const key = "76086428-5-33-7"
	k := mustKey(t, key)
	e, _ := events.New(key+".signed", events.TypeSigned, "/dte/sign", k, events.Signed{DTEKey: key, ArchiveKey: "dte/x.xml"})
	msg, _ := bus.Message(e)
	msg.Headers = amqp.Table{dispatch.HeaderDeadQueue: bus.QueueSubmit, dispatch.HeaderDeadReason: "HTTP 503", dispatch.HeaderDeadAt: time.Now().UTC().Format(time.RFC3339), bus.HeaderAttempts: int32(3)}
	b.publish(t, bus.ExchangeDLX, bus.QueueSubmit, msg)
	waitUntil(t, "the dead letter projected", func() (bool, string) {
		p, _ := s.Project(context.Background(), time.Now(), time.Hour)
		return p.DeadParked == 1, fmt.Sprintf("%d parked", p.DeadParked)
	})
	// Drain dte.dead (notify's) so that only the parked copy is left.
	if _, err := b.ch.QueuePurge(bus.QueueDead, false); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Project(context.Background(), time.Now(), time.Hour)
	mem := newTestServerWith(t, s, b.url)
	c := client(t)
	code, body, _ := do(t, c, "POST", mem.URL+"/api/replay", strings.NewReader(fmt.Sprintf(`{"id":%d}`, p.DeadLetters[0].ID)), map[string]string{"Authorization": "Bearer op"})
	if code != 200 || !strings.Contains(body, "1 reenviada") {
		t.Fatalf("replay: %d %s", code, body)
	}
	if n := b.depth(t, bus.QueueDeadParked); n != 0 {
		t.Errorf("%d still parked", n)
	}
	if n := b.depth(t, bus.QueueSubmit); n != 1 {
		t.Errorf("%d in %s, want the replayed message", n, bus.QueueSubmit)
	}
	d, _, _ := b.ch.Get(bus.QueueSubmit, true)
	if d.MessageId != e.ID() || d.Headers[bus.HeaderAttempts] != nil || d.Headers[dispatch.HeaderDeadReason] != nil {
		t.Errorf("replayed message: id %q headers %v; want the event with a fresh attempt count", d.MessageId, d.Headers)
	}
	if p, _ := s.Project(context.Background(), time.Now(), time.Hour); p.DeadParked != 0 {
		t.Errorf("the page still lists %d dead letters", p.DeadParked)
	}
	code, body, _ = do(t, c, "POST", mem.URL+"/api/replay", strings.NewReader(fmt.Sprintf(`{"id":%d}`, p.DeadLetters[0].ID)), map[string]string{"Authorization": "Bearer op"})
	if code != 404 || !strings.Contains(body, "ya no está") {
		t.Errorf("replaying it again: %d %s", code, body)
	}
}

// newTestServerWith serves a dashboard on store with a real broker and
// the operator token "op".
func newTestServerWith(t *testing.T, store *Store, amqpURL string) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mem := archivetest.NewMem()
	srv, err := New(ctx, Config{Store: store, Archive: mem, AMQPURL: amqpURL, OperatorToken: "op",
		Broker: NewBrokerWatch(amqpURL, nil, time.Hour, nil, nil), CAFs: NewCAFWatch(mem, time.Hour, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestFeedBacklog starts the feed on a queue that holds more than its
// prefetch and a batch: it must take it all, batch after batch.
func TestFeedBacklog(t *testing.T) {
	b := newBroker(t)
	const n = 3000
	for i := range n {
		k := mustKey(t, fmt.Sprintf("76086428-5-33-%d", i+1))
		e, _ := events.New(fmt.Sprintf("ev-%d", i), events.TypeRequested, "/test", k, map[string]any{})
		msg, _ := bus.Message(e)
		if err := b.ch.PublishWithContext(context.Background(), bus.ExchangeDirect, e.Type(), false, false, msg); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = NewFeed(FeedConfig{URL: b.url, Prefetch: 1000, BatchSize: 400, MaxWait: 20 * time.Millisecond}, s).Run(ctx)
	}()
	waitUntil(t, "the backlog stored", func() (bool, string) {
		p, _ := s.Project(context.Background(), time.Now(), time.Hour)
		return p.Documents == n, fmt.Sprintf("%d of %d documents", p.Documents, n)
	})
}

package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
)

// FeedConfig configures the queue consumer.
type FeedConfig struct {
	URL     string // the broker
	Queue   string // default bus.QueueDashboard
	Declare bool   // declare the topology on connect (DECLARE_TOPOLOGY)
	// Prefetch bounds unacknowledged messages (default 4000).
	Prefetch int
	// BatchSize and MaxWait bound a transaction: it commits when it holds
	// BatchSize messages or its first message waited MaxWait (defaults
	// 2000 and 500 ms). Batching is what keeps the dashboard cheap at the
	// pipeline's peak rate (one read and one write per document per
	// batch, one commit); the page updates once a second anyway.
	BatchSize int
	MaxWait   time.Duration
	Logger    *slog.Logger
}

// Feed consumes the dashboard's queue into the projection. A message is
// acknowledged only after the transaction that stored it committed; one
// that cannot be read is counted (the page shows how many and the last
// reason) and acknowledged, since reading it again cannot help.
type Feed struct {
	cfg   FeedConfig
	store *Store

	mu        sync.Mutex
	connected bool
	lastErr   string
	lastErrAt time.Time
}

// FeedStatus is what the page shows about the feed.
type FeedStatus struct {
	Queue     string     `json:"queue"`
	Connected bool       `json:"connected"`
	LastError string     `json:"last_error,omitempty"`
	ErrorAt   *time.Time `json:"error_at,omitempty"`
}

// NewFeed makes a feed; Run consumes.
func NewFeed(cfg FeedConfig, store *Store) *Feed {
	if cfg.Queue == "" {
		cfg.Queue = bus.QueueDashboard
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 4000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Feed{cfg: cfg, store: store}
}

// Status reports the feed's connection and last error.
func (f *Feed) Status() FeedStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := FeedStatus{Queue: f.cfg.Queue, Connected: f.connected, LastError: f.lastErr}
	if !f.lastErrAt.IsZero() {
		t := f.lastErrAt
		st.ErrorAt = &t
	}
	return st
}

func (f *Feed) setState(connected bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = connected
	if err != nil {
		f.lastErr, f.lastErrAt = err.Error(), time.Now().UTC()
	}
}

// Run consumes until ctx ends, reconnecting with backoff (1 s doubling to
// 30 s) when the broker goes away. Unacknowledged messages return to the
// queue when the connection closes.
func (f *Feed) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		start := time.Now()
		err := f.consume(ctx)
		f.setState(false, err)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		f.cfg.Logger.Warn("dashboard feed: disconnected; reconnecting", "queue", f.cfg.Queue, "error", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (f *Feed) consume(ctx context.Context) error {
	conn, err := amqp.DialConfig(f.cfg.URL, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second), Properties: amqp.Table{"connection_name": "dte-dashboard"}})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("channel: %w", err)
	}
	if f.cfg.Declare {
		if err := bus.Declaration().Declare(ch); err != nil {
			return err
		}
	}
	if err := ch.Qos(f.cfg.Prefetch, 0, false); err != nil {
		return fmt.Errorf("qos: %w", err)
	}
	deliveries, err := ch.ConsumeWithContext(ctx, f.cfg.Queue, "dte-dashboard", false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", f.cfg.Queue, err)
	}
	f.setState(true, nil)
	f.cfg.Logger.Info("dashboard feed: consuming", "queue", f.cfg.Queue)
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))

	var (
		batch   Batch
		lastTag uint64
		pending int
	)
	commit := func() error {
		if pending == 0 {
			return nil
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		res, err := f.store.Apply(cctx, batch)
		cancel()
		n := pending
		batch, pending = Batch{}, 0
		if err != nil {
			// Not stored: the messages go back to the queue, after a pause
			// so that a broken disk does not spin.
			f.cfg.Logger.Error("dashboard feed: cannot store; returning the messages to the queue", "messages", n, "error", err)
			f.setState(true, err)
			_ = ch.Nack(lastTag, true, true)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			return nil
		}
		if err := ch.Ack(lastTag, true); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
		if res.Duplicates > 0 {
			f.cfg.Logger.Debug("dashboard feed: duplicates", "n", res.Duplicates)
		}
		return nil
	}
	add := func(d amqp.Delivery) {
		fact, err := ParseDelivery(d, time.Now())
		if err != nil {
			f.cfg.Logger.Warn("dashboard feed: unreadable message; counted and acknowledged", "message_id", d.MessageId, "exchange", d.Exchange, "routing_key", d.RoutingKey, "error", err)
			batch.Unreadable = append(batch.Unreadable, err.Error())
		} else {
			batch.Facts = append(batch.Facts, fact)
		}
		lastTag = d.DeliveryTag
		pending++
	}
	// The loop wakes twice per batch, not once per message: after the
	// first message of a batch it sleeps MaxWait while the client library
	// queues what arrives (up to the prefetch), then takes it all. At the
	// pipeline's peak rate the per-message wake-ups cost more CPU than
	// storing the events.
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-closed:
			if e == nil {
				return errors.New("connection closed")
			}
			return e
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("the broker closed the consumer")
			}
			add(d)
		}
		wait := time.NewTimer(f.cfg.MaxWait)
		select {
		case <-ctx.Done():
		case <-wait.C:
		}
		// Take what queued meanwhile: until the batch is full or the
		// library has had nothing for a moment (it hands messages over one
		// at a time, so "nothing right now" is not "nothing queued").
		idle := time.Millisecond
	drain:
		for pending < f.cfg.BatchSize {
			select {
			case d, ok := <-deliveries:
				if !ok {
					break drain
				}
				add(d)
				continue
			default:
			}
			wait.Reset(idle)
			select {
			case d, ok := <-deliveries:
				if !ok {
					break drain
				}
				add(d)
			case <-wait.C:
				break drain
			}
		}
		wait.Stop()
		if err := commit(); err != nil {
			return err
		}
	}
}

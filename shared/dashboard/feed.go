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
	// Prefetch bounds unacknowledged messages (default 1000).
	Prefetch int
	// BatchSize and MaxWait bound a transaction: it commits when it holds
	// BatchSize messages or its first message waited MaxWait (defaults 500
	// and 100 ms). Batching is what keeps the dashboard cheap at the
	// pipeline's peak rate.
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
		cfg.Prefetch = 1000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 100 * time.Millisecond
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
		timer   = time.NewTimer(time.Hour)
		armed   bool
	)
	timer.Stop()
	defer timer.Stop()
	commit := func() error {
		if pending == 0 {
			return nil
		}
		armed = false
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
	for {
		select {
		case <-ctx.Done():
			return commit()
		case e := <-closed:
			if e == nil {
				return errors.New("connection closed")
			}
			return e
		case <-timer.C:
			if err := commit(); err != nil {
				return err
			}
		case d, ok := <-deliveries:
			if !ok {
				if err := commit(); err != nil {
					return err
				}
				return errors.New("the broker closed the consumer")
			}
			fact, err := ParseDelivery(d, time.Now())
			if err != nil {
				f.cfg.Logger.Warn("dashboard feed: unreadable message; counted and acknowledged", "message_id", d.MessageId, "exchange", d.Exchange, "routing_key", d.RoutingKey, "error", err)
				batch.Unreadable = append(batch.Unreadable, err.Error())
			} else {
				batch.Facts = append(batch.Facts, fact)
			}
			lastTag = d.DeliveryTag
			pending++
			if pending >= f.cfg.BatchSize {
				if !timer.Stop() && armed {
					select {
					case <-timer.C:
					default:
					}
				}
				if err := commit(); err != nil {
					return err
				}
			} else if !armed {
				timer.Reset(f.cfg.MaxWait)
				armed = true
			}
		}
	}
}

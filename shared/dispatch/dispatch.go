// Package dispatch is the local stand-in for Knative's RabbitMQ source (and
// the RabbitMQ connector under OpenFaaS): it consumes the function queues and
// POSTs each message as a CloudEvent to its function, with the same retry and
// dead-letter rules (docs/design.md, "Delivery"):
//
//   - a message is acknowledged only after its function answered 2xx, or
//     after its retry or dead letter was confirmed by the broker;
//   - retryable answers (network errors, 404, 413, 425, 429, 502, 503, 504 —
//     the Knative source's set) are retried up to Attempts deliveries in all,
//     waiting in the delay queues between attempts, never by holding the
//     delivery — except on a route that keeps each document's order
//     (OrderDocument), where the retry waits in the document's lane so
//     that none of its later messages overtakes it;
//   - anything else, and the last failed attempt, is dead-lettered to dte.dlx
//     with the queue it died in and the last error;
//   - a message from dte.dead that cannot be delivered is dropped after its
//     attempts (its copy stays in dte.dead.parked), so nothing loops.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
)

// Route feeds one queue to one function URL.
type Route struct {
	Queue string
	URL   string
	// Parallelism is the number of concurrent deliveries (default 1, which
	// keeps the queue's order).
	Parallelism int
	// Order, when OrderDocument, keeps each document's messages in the
	// queue's order while different documents are delivered Parallelism at
	// a time (see lanes.go). The default, OrderNone, delivers any
	// Parallelism messages at once.
	Order Order
}

// Config configures a Dispatcher.
type Config struct {
	// URL of the broker.
	URL string
	// Routes to serve.
	Routes []Route
	// Attempts is the number of deliveries a message gets (default 3).
	Attempts int
	// Backoff[i] is the wait before attempt i+2 (default 1 s, 5 s); the last
	// value repeats. Rounded up to the delay tiers of bus.DelayTiers.
	Backoff []time.Duration
	// RequestTimeout bounds one POST to a function (default 2 min).
	RequestTimeout time.Duration
	// HTTPClient posts to the functions (default: a client with no timeout
	// of its own; RequestTimeout applies).
	HTTPClient *http.Client
	// Publisher publishes retries and dead letters (default: one on URL).
	Publisher *bus.Publisher
	// Logger gets one line per delivery.
	Logger *slog.Logger
	// Observer watches each delivery (metrics, traces). Optional.
	Observer Observer
	// PublishObserver watches the retries and dead letters the default
	// Publisher publishes. Optional.
	PublishObserver bus.PublishObserver
}

func (c *Config) setDefaults() {
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if len(c.Backoff) == 0 {
		c.Backoff = []time.Duration{time.Second, 5 * time.Second}
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 2 * time.Minute
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for i := range c.Routes {
		if c.Routes[i].Parallelism <= 0 {
			c.Routes[i].Parallelism = 1
		}
	}
}

// Dispatcher moves messages from queues to functions.
type Dispatcher struct {
	cfg Config
	pub *bus.Publisher
}

// New returns a dispatcher; Run starts it.
func New(cfg Config) (*Dispatcher, error) {
	cfg.setDefaults()
	if len(cfg.Routes) == 0 {
		return nil, errors.New("dispatch: no routes")
	}
	for _, r := range cfg.Routes {
		if err := r.Order.Valid(); err != nil {
			return nil, fmt.Errorf("dispatch: route %s: %w", r.Queue, err)
		}
	}
	pub := cfg.Publisher
	if pub == nil {
		pub = bus.NewPublisher(bus.PublisherConfig{URL: cfg.URL, Logger: cfg.Logger, Observer: cfg.PublishObserver})
	}
	return &Dispatcher{cfg: cfg, pub: pub}, nil
}

// Run consumes every route until ctx is done, reconnecting after the broker
// goes away. In-flight deliveries finish before it returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	defer d.pub.Close()
	backoff := 500 * time.Millisecond
	for {
		started := time.Now()
		err := d.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > 30*time.Second {
			backoff = 500 * time.Millisecond
		}
		d.cfg.Logger.Warn("dispatcher lost the broker; reconnecting", "error", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// runOnce serves all routes on one connection until it breaks or ctx ends.
func (d *Dispatcher) runOnce(ctx context.Context) error {
	conn, err := amqp.DialConfig(d.cfg.URL, amqp.Config{
		Dial: amqp.DefaultDial(5 * time.Second), Heartbeat: 10 * time.Second,
		Properties: amqp.Table{"connection_name": "dte dispatcher"},
	})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(d.cfg.Routes))
	for _, r := range d.cfg.Routes {
		ch, err := conn.Channel()
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("open channel for %s: %w", r.Queue, err)
		}
		if err := ch.Qos(r.prefetch(), 0, false); err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("qos on %s: %w", r.Queue, err)
		}
		deliveries, err := ch.ConsumeWithContext(rctx, r.Queue, "", false, false, false, false, nil)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("consume %s: %w", r.Queue, err)
		}
		d.consume(rctx, r, deliveries, &wg, errc)
	}
	d.cfg.Logger.Info("dispatcher consuming", "routes", len(d.cfg.Routes))
	var cause error
	select {
	case <-ctx.Done():
	case e := <-closed:
		cause = fmt.Errorf("connection closed: %v", e)
	case cause = <-errc:
	}
	cancel() // stop consuming; workers finish the delivery in hand
	wg.Wait()
	return cause
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Publish failures. All of them mean the message was NOT accepted by the
// broker: the caller must not report success (enqueue answers 503).
var (
	ErrUnavailable = errors.New("broker unavailable")
	ErrNoConfirm   = errors.New("broker did not confirm the message in time")
	ErrNacked      = errors.New("broker refused the message (nack)")
	ErrUnroutable  = errors.New("message is unroutable: no queue is bound for it")
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// URL of the broker, e.g. amqp://guest:guest@127.0.0.1:5672/.
	URL string
	// DialTimeout bounds connecting to the broker (default 3 s).
	DialTimeout time.Duration
	// Channels is how many confirm-mode channels publish in parallel
	// (default 16). Each publish holds one channel until its confirm.
	Channels int
	// RetryDialAfter is how long after a failed connection attempt publishes
	// fail at once instead of dialling again (default 500 ms), so that a
	// down broker costs callers nothing.
	RetryDialAfter time.Duration
	// OnConnect runs on a fresh channel after every (re)connection, e.g. to
	// declare the topology. Optional.
	OnConnect func(ch *amqp.Channel) error
	// Logger receives connection events. Optional.
	Logger *slog.Logger
	// Observer sees every publish (metrics, trace context). Optional.
	Observer PublishObserver
}

// PublishObserver watches publishes: Publishing is called before msg goes to
// the broker and may change it (add trace headers); the function it
// returns is called once with the publish's outcome (nil: confirmed).
type PublishObserver interface {
	Publishing(ctx context.Context, exchange, key string, msg *amqp.Publishing) (done func(error))
}

func (c *PublisherConfig) setDefaults() {
	if c.DialTimeout <= 0 {
		c.DialTimeout = 3 * time.Second
	}
	if c.Channels <= 0 {
		c.Channels = 16
	}
	if c.RetryDialAfter <= 0 {
		c.RetryDialAfter = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Publisher publishes persistent, mandatory messages with publisher confirms.
// It connects lazily and reconnects after the broker restarts: a publish
// that finds the connection gone dials again. Safe for concurrent use.
type Publisher struct {
	cfg PublisherConfig

	mu         sync.Mutex
	conn       *amqp.Connection
	lastFailed time.Time
	lastErr    error
	open       int                  // channels open on conn
	idle       chan *confirmChannel // channels ready for a publish
	closed     bool
}

type confirmChannel struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
}

// NewPublisher returns a publisher; it does not connect until needed.
func NewPublisher(cfg PublisherConfig) *Publisher {
	cfg.setDefaults()
	return &Publisher{cfg: cfg, idle: make(chan *confirmChannel, cfg.Channels)}
}

// Publish sends msg to exchange with routing key and waits for the broker's
// confirm, at most until ctx is done. It returns nil only when the broker
// acknowledged the message and routed it to at least one queue.
func (p *Publisher) Publish(ctx context.Context, exchange, key string, msg amqp.Publishing) (err error) {
	if p.cfg.Observer != nil {
		done := p.cfg.Observer.Publishing(ctx, exchange, key, &msg)
		defer func() { done(err) }()
	}
	cc, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	msg.DeliveryMode = amqp.Persistent
	dc, err := cc.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msg)
	if err != nil {
		p.discard(cc)
		return fmt.Errorf("publish to %s (%s): %w: %w", exchange, key, ErrUnavailable, err)
	}
	select {
	case <-dc.Done():
	case <-ctx.Done():
		// The confirm may still come; the channel cannot be reused safely
		// because a late return would be taken for the next message's.
		p.discard(cc)
		return fmt.Errorf("publish to %s (%s): %w: %w", exchange, key, ErrNoConfirm, ctx.Err())
	}
	if !dc.Acked() {
		p.discard(cc)
		return fmt.Errorf("publish to %s (%s): %w", exchange, key, ErrNacked)
	}
	// The broker sends basic.return before the ack of the same message, and
	// the channel delivers it into our buffered channel before processing
	// the ack, so it is here now if the message was unroutable.
	select {
	case r := <-cc.returns:
		p.release(cc)
		return fmt.Errorf("publish to %s (%s): %w (%d %s)", exchange, key, ErrUnroutable, r.ReplyCode, r.ReplyText)
	default:
	}
	if cc.ch.IsClosed() {
		p.discard(cc)
		return nil
	}
	p.release(cc)
	return nil
}

// Ready connects if needed and reports whether the broker is reachable.
func (p *Publisher) Ready(ctx context.Context) error {
	_, err := p.connection(ctx)
	return err
}

// Close closes the connection. In-flight publishes fail.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.conn != nil {
		err := p.conn.Close()
		p.conn = nil
		if err != nil && !errors.Is(err, amqp.ErrClosed) {
			return err
		}
	}
	return nil
}

// acquire takes an idle channel, opens a new one while fewer than Channels
// are open, or waits for one to come back.
func (p *Publisher) acquire(ctx context.Context) (*confirmChannel, error) {
	for {
		select {
		case cc := <-p.idle:
			if p.usable(cc) {
				return cc, nil
			}
			continue
		default:
		}
		conn, err := p.connection(ctx)
		if err != nil {
			return nil, err
		}
		if cc, opened, err := p.open1(conn); opened || err != nil {
			return cc, err
		}
		select {
		case cc := <-p.idle:
			if p.usable(cc) {
				return cc, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for a free channel: %w", ErrUnavailable, ctx.Err())
		}
	}
}

// usable reports whether an idle channel still works; a dead one is
// written off.
func (p *Publisher) usable(cc *confirmChannel) bool {
	if cc.conn.IsClosed() || cc.ch.IsClosed() {
		p.forget(cc)
		return false
	}
	return true
}

// open1 opens one more channel on conn when the pool has room.
func (p *Publisher) open1(conn *amqp.Connection) (cc *confirmChannel, opened bool, err error) {
	p.mu.Lock()
	if p.open >= p.cfg.Channels || p.conn != conn {
		p.mu.Unlock()
		return nil, false, nil
	}
	p.open++
	p.mu.Unlock()
	cc, err = openConfirmChannel(conn)
	if err != nil {
		p.mu.Lock()
		p.open--
		p.mu.Unlock()
		return nil, false, fmt.Errorf("%w: open channel: %w", ErrUnavailable, err)
	}
	return cc, true, nil
}

func openConfirmChannel(conn *amqp.Connection) (*confirmChannel, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, err
	}
	cc := &confirmChannel{conn: conn, ch: ch, returns: make(chan amqp.Return, 1)}
	ch.NotifyReturn(cc.returns)
	return cc, nil
}

func (p *Publisher) release(cc *confirmChannel) {
	select {
	case p.idle <- cc:
	default:
		p.discard(cc)
	}
}

func (p *Publisher) discard(cc *confirmChannel) {
	_ = cc.ch.Close()
	p.forget(cc)
}

// forget drops a channel from the count if it belongs to the current
// connection (channels of an old connection were already written off).
func (p *Publisher) forget(cc *confirmChannel) {
	p.mu.Lock()
	if cc.conn == p.conn && p.open > 0 {
		p.open--
	}
	p.mu.Unlock()
}

// connection returns the live connection, dialling when there is none.
func (p *Publisher) connection(ctx context.Context) (*amqp.Connection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("%w: publisher closed", ErrUnavailable)
	}
	if p.conn != nil && !p.conn.IsClosed() {
		return p.conn, nil
	}
	if p.conn != nil {
		p.cfg.Logger.Warn("broker connection lost; reconnecting")
		p.conn, p.open = nil, 0
	}
	if time.Since(p.lastFailed) < p.cfg.RetryDialAfter {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, p.lastErr)
	}
	timeout := p.cfg.DialTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), 10*time.Millisecond)
	}
	conn, err := amqp.DialConfig(p.cfg.URL, amqp.Config{
		Dial:       amqp.DefaultDial(timeout),
		Heartbeat:  10 * time.Second,
		Properties: amqp.Table{"connection_name": "dte publisher"},
	})
	if err == nil && p.cfg.OnConnect != nil {
		err = runOnConnect(conn, p.cfg.OnConnect)
	}
	if err != nil {
		if conn != nil {
			_ = conn.Close()
		}
		p.lastFailed, p.lastErr = time.Now(), err
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	// Channels of the old connection are dead; empty the idle pool.
	for {
		select {
		case <-p.idle:
			continue
		default:
		}
		break
	}
	p.conn = conn
	p.cfg.Logger.Info("connected to broker")
	return conn, nil
}

func runOnConnect(conn *amqp.Connection, fn func(*amqp.Channel) error) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open setup channel: %w", err)
	}
	defer ch.Close()
	return fn(ch)
}

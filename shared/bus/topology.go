// Package bus is the pipeline's use of RabbitMQ: the one declaration of the
// topology (docs/design.md, "RabbitMQ topology"), the events' AMQP form, and
// a publisher with confirms that survives broker restarts. The consumer is
// the dispatcher's (shared/dispatch).
package bus

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/events"
)

// Exchange and queue names.
const (
	ExchangeDirect = "dte.direct" // direct; routing key = event type (or a queue name for retries)
	ExchangeDLX    = "dte.dlx"    // fanout; dead letters
	ExchangeDelay  = "dte.delay"  // headers; routes to the delay queue named by header "delay"

	// The queues' names are part of the events' contract (a dead letter
	// names the queue it died in): events holds them.
	QueueSign       = events.QueueSign
	QueueSubmit     = events.QueueSubmit
	QueueNotify     = events.QueueNotify
	QueueDead       = events.QueueDead
	QueueDeadParked = events.QueueDeadParked
	// QueueDashboard feeds the operations dashboard (shared/dashboard): a
	// copy of every event on ExchangeDirect and of every dead letter. It
	// has no dead-letter exchange (a dashboard problem must never look like
	// a document's failure) and drops its oldest messages beyond
	// DashboardMaxLength instead of refusing new ones, so that a dashboard
	// that is down never blocks the pipeline's publishers.
	QueueDashboard = "dte.dashboard"
	// DashboardMaxLength bounds QueueDashboard: about a day at 10 events/s.
	DashboardMaxLength = 1_000_000

	// HeaderDelay names the delay tier of a message published to ExchangeDelay.
	HeaderDelay = "delay"
	// DeliveryLimit bounds redeliveries of a message whose consumer dies
	// (crash, lost connection) before acknowledging it: after that many the
	// broker dead-letters it, so a message that kills its consumer cannot
	// loop for ever. Ordinary retries go through the delay queues instead.
	DeliveryLimit = 5
)

// DelayTiers are the delays a message can wait before it comes back to
// ExchangeDirect. Retry backoff and status re-polls pick the smallest tier
// that is at least the wanted delay. Each tier is one TTL queue (the Debian
// RabbitMQ has no delayed-message plugin).
// The tiers from 30 min up serve the slow retry tier (docs/design.md,
// "Retries"): a wait longer than the longest tier comes back after it.
var delayTiers = []time.Duration{
	1 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second,
	1 * time.Minute, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour,
}

// DelayTiers returns the delay tiers, shortest first.
func DelayTiers() []time.Duration { return append([]time.Duration(nil), delayTiers...) }

// DelayQueue is the name of the TTL queue for a tier: "dte.delay.5s".
func DelayQueue(tier time.Duration) string { return "dte.delay." + tierName(tier) }

func tierName(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	default:
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
}

// TierFor is the smallest tier ≥ d (the longest tier when d exceeds them all).
func TierFor(d time.Duration) time.Duration {
	for _, t := range delayTiers {
		if t >= d {
			return t
		}
	}
	return delayTiers[len(delayTiers)-1]
}

// Exchange is a declared exchange.
type Exchange struct {
	Name string
	Kind string // direct, fanout, headers
}

// Queue is a declared queue with its arguments.
type Queue struct {
	Name string
	Args amqp.Table
}

// Binding binds a queue to an exchange with a routing key (and, on a headers
// exchange, header arguments).
type Binding struct {
	Exchange string
	Queue    string
	Key      string
	Args     amqp.Table
}

// Topology is the complete declaration: exchanges, queues and bindings.
type Topology struct {
	Exchanges []Exchange
	Queues    []Queue
	Bindings  []Binding
}

// WorkQueues maps each function queue to the event types it receives. A
// queue also receives messages routed with its own name as the key: that is
// how a retry returns to one queue only, even when its event type feeds
// several queues.
var workQueues = map[string][]string{
	QueueSign:   {events.TypeRequested},
	QueueSubmit: {events.TypeSigned, events.TypeCheck},
	QueueNotify: {events.TypeRequested, events.TypeSigned, events.TypeSubmitted, events.TypeSettled, events.TypeFailed, events.TypeRetrying},
}

// WorkQueues returns the function queues and the event types each receives.
func WorkQueues() map[string][]string {
	out := make(map[string][]string, len(workQueues))
	for q, ts := range workQueues {
		out[q] = append([]string(nil), ts...)
	}
	return out
}

// Declaration returns the pipeline's topology.
func Declaration() Topology {
	t := Topology{
		Exchanges: []Exchange{
			{Name: ExchangeDirect, Kind: amqp.ExchangeDirect},
			{Name: ExchangeDLX, Kind: amqp.ExchangeFanout},
			{Name: ExchangeDelay, Kind: amqp.ExchangeHeaders},
		},
	}
	names := make([]string, 0, len(workQueues))
	for q := range workQueues {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		t.Queues = append(t.Queues, Queue{Name: q, Args: amqp.Table{
			amqp.QueueTypeArg:        amqp.QueueTypeQuorum,
			"x-dead-letter-exchange": ExchangeDLX,
			// at-least-once: a dead letter stays in its queue until dte.dead
			// has confirmed it (it needs reject-publish overflow).
			"x-dead-letter-strategy": "at-least-once",
			amqp.QueueOverflowArg:    amqp.QueueOverflowRejectPublish,
			"x-delivery-limit":       int32(DeliveryLimit),
		}})
		for _, typ := range workQueues[q] {
			t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDirect, Queue: q, Key: typ})
		}
		t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDirect, Queue: q, Key: q})
	}
	for _, q := range []string{QueueDead, QueueDeadParked} {
		t.Queues = append(t.Queues, Queue{Name: q, Args: amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}})
		t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDLX, Queue: q})
	}
	// Retries of a dead letter's delivery to notify come back by name.
	t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDirect, Queue: QueueDead, Key: QueueDead})
	t.Queues = append(t.Queues, Queue{Name: QueueDashboard, Args: amqp.Table{
		amqp.QueueTypeArg:     amqp.QueueTypeQuorum,
		amqp.QueueMaxLenArg:   int32(DashboardMaxLength),
		amqp.QueueOverflowArg: amqp.QueueOverflowDropHead,
	}})
	for _, typ := range events.Types {
		t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDirect, Queue: QueueDashboard, Key: typ})
	}
	t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDLX, Queue: QueueDashboard})
	for _, tier := range delayTiers {
		q := DelayQueue(tier)
		t.Queues = append(t.Queues, Queue{Name: q, Args: amqp.Table{
			amqp.QueueTypeArg:        amqp.QueueTypeQuorum,
			amqp.QueueMessageTTLArg:  int32(tier / time.Millisecond),
			"x-dead-letter-exchange": ExchangeDirect,
			"x-dead-letter-strategy": "at-least-once",
			amqp.QueueOverflowArg:    amqp.QueueOverflowRejectPublish,
		}})
		t.Bindings = append(t.Bindings, Binding{Exchange: ExchangeDelay, Queue: q, Args: amqp.Table{
			"x-match":   "all",
			HeaderDelay: tierName(tier),
		}})
	}
	return t
}

// Declare declares the topology on ch. It is idempotent: declaring what
// exists with the same arguments changes nothing.
func (t Topology) Declare(ch *amqp.Channel) error {
	for _, e := range t.Exchanges {
		if err := ch.ExchangeDeclare(e.Name, e.Kind, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", e.Name, err)
		}
	}
	for _, q := range t.Queues {
		if _, err := ch.QueueDeclare(q.Name, true, false, false, false, q.Args); err != nil {
			return fmt.Errorf("declare queue %s: %w", q.Name, err)
		}
	}
	for _, b := range t.Bindings {
		if err := ch.QueueBind(b.Queue, b.Key, b.Exchange, false, b.Args); err != nil {
			return fmt.Errorf("bind queue %s to %s (%q): %w", b.Queue, b.Exchange, b.Key, err)
		}
	}
	return nil
}

// DeclareOnConnect is the PublisherConfig.OnConnect of a function whose
// DECLARE_TOPOLOGY setting is declare: the topology, or nothing when the
// platform declares it (kn/ with the messaging-topology-operator).
func DeclareOnConnect(declare bool) func(*amqp.Channel) error {
	if !declare {
		return nil
	}
	return Declaration().Declare
}

// WithChannel connects to the broker at url, runs fn on a channel and
// closes both: for one-off administrative work (`dte topology`, `dte dead`,
// the local stack's setup).
func WithChannel(url string, dialTimeout time.Duration, fn func(*amqp.Channel) error) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(dialTimeout)})
	if err != nil {
		return fmt.Errorf("connect to the broker: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	return fn(ch)
}

// DeclareAt connects to the broker at url and declares the topology
// (`dte topology`, the OpenFaaS connector's init step).
func DeclareAt(url string, dialTimeout time.Duration) (Topology, error) {
	t := Declaration()
	return t, WithChannel(url, dialTimeout, t.Declare)
}

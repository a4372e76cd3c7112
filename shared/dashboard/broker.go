package dashboard

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// QueueStat is one queue's depth and consumers, from a passive declare
// (no management plugin needed).
type QueueStat struct {
	Name      string `json:"name"`
	Messages  int    `json:"messages"`
	Consumers int    `json:"consumers"`
	Missing   bool   `json:"missing,omitempty"` // not declared on the broker
}

// BrokerStats is a snapshot of every queue.
type BrokerStats struct {
	At     time.Time   `json:"at"`
	Queues []QueueStat `json:"queues"`
	Error  string      `json:"error,omitempty"` // the broker could not be asked
}

// BrokerWatch asks the broker for the queues' depths every interval.
type BrokerWatch struct {
	url      string
	queues   []string
	interval time.Duration
	log      *slog.Logger
	onChange func()
	last     atomic.Pointer[BrokerStats]
}

// NewBrokerWatch watches queues on the broker at url.
func NewBrokerWatch(url string, queues []string, interval time.Duration, log *slog.Logger, onChange func()) *BrokerWatch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &BrokerWatch{url: url, queues: queues, interval: interval, log: log, onChange: onChange}
	w.last.Store(&BrokerStats{Error: "not asked yet"})
	return w
}

// Stats is the latest snapshot.
func (w *BrokerWatch) Stats() BrokerStats { return *w.last.Load() }

// Run polls until ctx ends.
func (w *BrokerWatch) Run(ctx context.Context) {
	var conn *amqp.Connection
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		if conn == nil || conn.IsClosed() {
			c, err := amqp.DialConfig(w.url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second), Properties: amqp.Table{"connection_name": "dte-dashboard-stats"}})
			if err != nil {
				w.store(BrokerStats{At: time.Now().UTC(), Error: fmt.Sprintf("connect: %v", err)})
			} else {
				conn = c
			}
		}
		if conn != nil && !conn.IsClosed() {
			w.store(w.poll(conn))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *BrokerWatch) store(s BrokerStats) {
	prev := w.last.Swap(&s)
	if w.onChange != nil && !sameStats(*prev, s) {
		w.onChange()
	}
}

func sameStats(a, b BrokerStats) bool {
	if a.Error != b.Error || len(a.Queues) != len(b.Queues) {
		return false
	}
	for i := range a.Queues {
		if a.Queues[i] != b.Queues[i] {
			return false
		}
	}
	return true
}

// poll declares each queue passively: a missing queue closes the channel,
// so the next queue gets a new one.
func (w *BrokerWatch) poll(conn *amqp.Connection) BrokerStats {
	s := BrokerStats{At: time.Now().UTC()}
	var ch *amqp.Channel
	defer func() {
		if ch != nil {
			ch.Close()
		}
	}()
	for _, q := range w.queues {
		if ch == nil || ch.IsClosed() {
			c, err := conn.Channel()
			if err != nil {
				s.Error = fmt.Sprintf("channel: %v", err)
				return s
			}
			ch = c
		}
		info, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		if err != nil {
			if e, ok := err.(*amqp.Error); ok && e.Code == amqp.NotFound {
				s.Queues = append(s.Queues, QueueStat{Name: q, Missing: true})
				continue
			}
			s.Error = fmt.Sprintf("queue %s: %v", q, err)
			return s
		}
		s.Queues = append(s.Queues, QueueStat{Name: q, Messages: info.Messages, Consumers: info.Consumers})
	}
	return s
}

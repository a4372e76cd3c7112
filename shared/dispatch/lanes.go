package dispatch

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/events"
)

// Order is how a route orders the deliveries it makes at once.
type Order string

const (
	// OrderNone delivers up to Parallelism messages at once, in any order
	// (with Parallelism 1, the queue's order).
	OrderNone Order = ""
	// OrderDocument delivers up to Parallelism messages at once but never
	// two of the same document (the event's dtekey), and each document's
	// messages in the queue's order. notify's route uses it: Odoo sees a
	// document's statuses in the order they happened, while the slow part
	// of an accepted document (printing, archiving what the customer gets)
	// does not hold up every other document.
	OrderDocument Order = "document"
)

// Valid says whether o is an order a route can have.
func (o Order) Valid() error {
	switch o {
	case OrderNone, OrderDocument:
		return nil
	}
	return fmt.Errorf("order %q: want %q or none (the queue's order at parallelism 1, none above)", string(o), string(OrderDocument))
}

// prefetch is how many unacknowledged messages the route takes from the
// broker. Lanes get twice their number: a lane busy with one document
// holds the next message for it while the others keep working.
func (r Route) prefetch() int {
	if r.Order == OrderDocument && r.Parallelism > 1 {
		return 2 * r.Parallelism
	}
	return r.Parallelism
}

// consume starts the route's workers on deliveries until the consumer
// ends; stop ends when the dispatcher stops consuming (ctx done, the
// connection lost). The first worker that sees the consumer end reports it
// on errc (once; the others must not block on a full channel).
func (d *Dispatcher) consume(stop context.Context, r Route, deliveries <-chan amqp.Delivery, wg *sync.WaitGroup, errc chan<- error) {
	stopped := func() {
		select {
		case errc <- fmt.Errorf("consumer of %s stopped", r.Queue):
		default:
		}
	}
	if r.Order != OrderDocument || r.Parallelism == 1 {
		for i := 0; i < r.Parallelism; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range deliveries {
					d.handle(stop, r, m, decode(m))
				}
				stopped()
			}()
		}
		return
	}
	// Lanes: one worker each, a document always in the same lane, so its
	// messages are delivered one after the other in the order the queue
	// gave them. The router reads in queue order; each lane's buffer holds
	// the whole prefetch, so the router never waits on a busy lane and a
	// slow document holds up only the documents that share its lane.
	lanes := make([]chan lanedDelivery, r.Parallelism)
	for i := range lanes {
		lanes[i] = make(chan lanedDelivery, r.prefetch())
		wg.Add(1)
		go func(lane <-chan lanedDelivery) {
			defer wg.Done()
			for ld := range lane {
				// Once consuming stopped, what waits in the lane is left
				// unacknowledged: the broker delivers it again (in order)
				// when the channel closes, so it is not posted now.
				if stop.Err() != nil {
					continue
				}
				d.handle(stop, r, ld.m, ld.ev)
			}
		}(lanes[i])
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			for _, l := range lanes {
				close(l)
			}
		}()
		for m := range deliveries {
			ev := decode(m)
			lanes[laneOf(documentOf(m, ev), len(lanes))] <- lanedDelivery{m: m, ev: ev}
		}
		stopped()
	}()
}

type lanedDelivery struct {
	m  amqp.Delivery
	ev *events.Event
}

// documentOf is the message's document: its event's dtekey, or, for a
// message that is no event (poison, which its function refuses at once),
// its message id.
func documentOf(m amqp.Delivery, ev *events.Event) string {
	if ev != nil {
		if k, _ := ev.Extensions()[events.ExtDTEKey].(string); k != "" {
			return k
		}
	}
	return m.MessageId
}

func laneOf(doc string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(doc))
	return int(h.Sum32() % uint32(n))
}

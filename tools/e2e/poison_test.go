package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/events"
)

// TestPoisonMessages publishes messages no function can take: a body that
// is not a CloudEvent (routed as cl.dte.requested, so it reaches sign and
// notify) and a CloudEvent of an unknown type (routed to dte.sign only).
// Each copy is refused by its function at the first delivery (400, 422:
// nothing to retry), dead-lettered, parked in dte.dead.parked and taken off
// dte.dead by notify; a few seconds later nothing has moved: no loop.
func TestPoisonMessages(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	bogus := cloudevents.NewEvent()
	bogus.SetID("poison-bogus")
	bogus.SetType("cl.dte.bogus")
	bogus.SetSource("/e2e")
	bogus.SetExtension(events.ExtDTEKey, fmt.Sprintf("%s-33-77", s.issuer))
	if err := bogus.SetData(events.ContentTypeJSON, map[string]string{"what": "nothing a function takes"}); err != nil {
		t.Fatal(err)
	}
	bogusBody, err := json.Marshal(bogus)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		key    string // routing key on dte.direct
		msg    amqp.Publishing
		status int            // the functions' answer
		queues map[string]int // deliveries expected per queue
	}{
		{
			name:   "not a CloudEvent",
			key:    events.TypeRequested,
			msg:    amqp.Publishing{ContentType: "text/plain", MessageId: "poison-text", Body: []byte("this is not a CloudEvent")},
			status: 400,
			queues: map[string]int{bus.QueueSign: 1, bus.QueueNotify: 1, bus.QueueDead: 2},
		},
		{
			name:   "unknown event type",
			key:    bus.QueueSign,
			msg:    amqp.Publishing{ContentType: events.ContentTypeStructured, MessageId: "poison-bogus", Type: "cl.dte.bogus", Body: bogusBody},
			status: 422,
			queues: map[string]int{bus.QueueSign: 1, bus.QueueDead: 1},
		},
	}
	parked := 0
	for _, tt := range tests {
		publish(t, s.amqpURL, bus.ExchangeDirect, tt.key, tt.msg)
		parked += tt.queues[bus.QueueDead]
	}
	counts := func() map[string]int {
		n := map[string]int{}
		for _, x := range s.deliveries(nil) {
			n[x.MessageID+" "+x.Queue]++
		}
		return n
	}
	settled := func() (bool, string) {
		dead, p := queueDepth(t, s.amqpURL, bus.QueueDead), queueDepth(t, s.amqpURL, bus.QueueDeadParked)
		got := counts()
		for _, tt := range tests {
			for q, n := range tt.queues {
				if got[tt.msg.MessageId+" "+q] < n {
					return false, fmt.Sprintf("%s: %d deliveries from %s so far; dte.dead %d, dte.dead.parked %d", tt.msg.MessageId, got[tt.msg.MessageId+" "+q], q, dead, p)
				}
			}
		}
		return dead == 0 && p == parked, fmt.Sprintf("dte.dead %d, dte.dead.parked %d (want 0, %d)", dead, p, parked)
	}
	waitFor(t, settleTimeout, "the poison messages to be parked", settled)
	before := counts()
	// Longer than the longest retry backoff (5 s): a message going round
	// would have come back by now.
	time.Sleep(7 * time.Second)
	if ok, detail := settled(); !ok {
		t.Errorf("after the wait: %s", detail)
	}
	if after := counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("deliveries went on: before %v, after %v", before, after)
	}
	for _, tt := range tests {
		for _, x := range s.deliveries(func(x delivery) bool { return x.MessageID == tt.msg.MessageId }) {
			switch {
			case x.Queue == bus.QueueDead && (x.Action == "dropped" || x.Action == "delivered"):
			case x.Queue != bus.QueueDead && x.Attempt == 1 && x.Action == "dead-lettered" && x.Status == tt.status:
			default:
				t.Errorf("%s: %+v; want HTTP %d at the first attempt, dead-lettered", tt.name, x, tt.status)
			}
		}
		got := counts()
		for q, n := range tt.queues {
			if got[tt.msg.MessageId+" "+q] != n {
				t.Errorf("%s: delivered %d times from %s, want %d", tt.name, got[tt.msg.MessageId+" "+q], q, n)
			}
		}
	}
	// The functions' own view: sign refused each message once.
	logged, err := os.ReadFile(s.LogFile("sign"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(logged), `"result":"poison"`); n != len(tests) {
		t.Errorf("sign logged %d poison messages, want %d", n, len(tests))
	}
	for _, q := range []string{bus.QueueSign, bus.QueueNotify, bus.QueueSubmit} {
		if n := queueDepth(t, s.amqpURL, q); n != 0 {
			t.Errorf("%s holds %d messages", q, n)
		}
	}
	if cbs := s.Odoo.Received(); len(cbs) != 0 {
		t.Errorf("Odoo was told about poison: %s", callbackList(cbs))
	}
	if v := s.Odoo.Violations(); len(v) != 0 {
		t.Errorf("the callback contract was broken: %v", v)
	}
}

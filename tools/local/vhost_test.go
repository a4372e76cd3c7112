package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
)

func TestVHostOf(t *testing.T) {
	cases := map[string]string{
		"amqp://guest:guest@127.0.0.1:5672/":          "/",
		"amqp://guest:guest@127.0.0.1:5672":           "/",
		"amqp://guest:guest@127.0.0.1:5672/dte-local": "dte-local",
		"amqps://u:p@h/a%2Fb":                         "a/b",
	}
	for raw, want := range cases {
		got, err := VHostOf(raw)
		if err != nil || got != want {
			t.Errorf("VHostOf(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := VHostOf("http://127.0.0.1/"); err == nil {
		t.Error("an http URL was accepted as an AMQP URL")
	}
	u, err := WithVHost("amqp://guest:guest@127.0.0.1:5672/", "dte-x")
	if err != nil || u != "amqp://guest:guest@127.0.0.1:5672/dte-x" {
		t.Errorf("WithVHost: %q, %v", u, err)
	}
}

// TestEnsureVHostCreatesAMissingOne runs `dte local`'s vhost set-up against
// the real broker: a missing vhost is created (and usable), an existing one
// is left alone.
func TestEnsureVHostCreatesAMissingOne(t *testing.T) {
	base := bustest.Require(t)
	if _, err := exec.LookPath("rabbitmqctl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rabbitmqctl not found")
		}
		t.Skip("rabbitmqctl not found")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "dte-test-ensurevhost-" + hex.EncodeToString(b)
	url, err := WithVHost(base, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("rabbitmqctl", "delete_vhost", name).Run() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	created, err := EnsureVHost(ctx, url)
	if err != nil || !created {
		t.Fatalf("EnsureVHost on a missing vhost: created=%v, %v", created, err)
	}
	created, err = EnsureVHost(ctx, url)
	if err != nil || created {
		t.Fatalf("EnsureVHost on an existing vhost: created=%v, %v", created, err)
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("the created vhost is not usable: %v", err)
	}
	conn.Close()
}

// TestDeclareTopologyPurgesOnlyWhenAsked: the stack empties its queues only
// in a vhost it owns (Config.PurgeQueues); elsewhere a message waiting in a
// pipeline queue survives a start.
func TestDeclareTopologyPurgesOnlyWhenAsked(t *testing.T) {
	url := bustest.VHost(t)
	if err := declareTopology(url, false); err != nil {
		t.Fatal(err)
	}
	publish := func() {
		t.Helper()
		err := bus.WithChannel(url, 5*time.Second, func(ch *amqp.Channel) error {
			if err := ch.Confirm(false); err != nil {
				return err
			}
			confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1))
			if err := ch.PublishWithContext(context.Background(), "", bus.QueueSign, false, false,
				amqp.Publishing{Body: []byte("someone else's message"), DeliveryMode: amqp.Persistent}); err != nil {
				return err
			}
			if c := <-confirms; !c.Ack {
				t.Fatal("the broker did not confirm the message")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	depth := func() int {
		t.Helper()
		var n int
		err := bus.WithChannel(url, 5*time.Second, func(ch *amqp.Channel) error {
			q, err := ch.QueueDeclarePassive(bus.QueueSign, true, false, false, false, nil)
			n = q.Messages
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	publish()
	if err := declareTopology(url, false); err != nil {
		t.Fatal(err)
	}
	if n := depth(); n != 1 {
		t.Fatalf("%s holds %d messages after a start without purging, want 1", bus.QueueSign, n)
	}
	if err := declareTopology(url, true); err != nil {
		t.Fatal(err)
	}
	if n := depth(); n != 0 {
		t.Fatalf("%s holds %d messages after a start that purges, want 0", bus.QueueSign, n)
	}
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/tools/siisim"
)

// TestBrokerRestart restarts RabbitMQ (rabbitmqctl stop_app, start_app)
// while documents are in flight: some in submit's hands, their uploads at a
// slow SII (so submit cannot publish what comes next, nor the dispatcher
// acknowledge), others waiting in the delay queues. Every one completes,
// with one upload each and nothing applied twice. It stops the broker every
// other test uses, so it runs only with DTE_TEST_BROKER_RESTART=1 (make
// test-broker-restart runs it alone, after everything else).
func TestBrokerRestart(t *testing.T) {
	if os.Getenv("DTE_TEST_BROKER_RESTART") != "1" {
		t.Skip("stops RabbitMQ: set DTE_TEST_BROKER_RESTART=1 (make test-broker-restart)")
	}
	s := newStack(t, stackOptions{})
	if err := s.SII.SetFaults(siisim.Faults{Latency: siisim.Duration(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	docs := s.allDocs()
	for _, d := range docs {
		s.send(d)
	}
	waitFor(t, settleTimeout, "submit's first upload to reach the SII", func() (bool, string) {
		n := s.SII.Stats()[siisim.OpUpload]
		return n >= 1, fmt.Sprintf("%d upload calls", n)
	})
	settled := 0
	for _, d := range docs {
		if m, _ := s.Odoo.Move(d.move); archive.FinalStatus(m.Status) {
			settled++
		}
	}
	if settled == len(docs) {
		t.Fatal("every document settled before the broker stopped: nothing was in flight")
	}
	rabbitmqctl(t, "stop_app")
	s.SII.ClearFaults() // calls in progress keep their latency
	restarted := false
	t.Cleanup(func() {
		if !restarted { // never leave the broker down for the other tests
			rabbitmqctl(t, "start_app")
			rabbitmqctl(t, "await_startup")
		}
	})
	waitFor(t, time.Minute, "the broker to refuse connections", func() (bool, string) {
		conn, _, err := dial(s.amqpURL)
		if err == nil {
			conn.Close()
			return false, "still accepting connections"
		}
		return true, ""
	})
	time.Sleep(3 * time.Second) // functions and dispatcher see the broker gone
	rabbitmqctl(t, "start_app")
	rabbitmqctl(t, "await_startup")
	restarted = true
	t.Logf("broker restarted with %d of %d documents settled", settled, len(docs))

	waitFor(t, 3*time.Minute, "every document to settle after the restart", func() (bool, string) {
		for _, d := range docs {
			m, _ := s.Odoo.Move(d.move)
			st, err := s.state(d.key)
			if m.Status != "accepted" || err != nil || st.Status != "accepted" {
				return false, fmt.Sprintf("%s: Odoo %q, archive %q (%v)", d.key, m.Status, st.Status, err)
			}
		}
		return true, ""
	})
	// Redeliveries after the restart may bring a status Odoo already has
	// (dropped as a duplicate) or one it has passed (ignored): the order
	// of the applied ones is what must hold.
	s.checkLedger(docs, func(doc) want { return want{loose: true} })
	if n := s.SII.Stats()["upload"]; n != len(docs) {
		t.Errorf("%d upload calls for %d documents", n, len(docs))
	}
	if !strings.Contains(string(s.log.bytes()), "dispatcher lost the broker") {
		t.Error("the dispatcher never lost its connection: the restart did not happen under it")
	}
	submitLog, _ := os.ReadFile(s.LogFile("submit"))
	t.Logf("submit answered 503 %d times, unable to publish what came next while the broker was down",
		strings.Count(string(submitLog), `"error":"publish cl.dte.`))
}

// rabbitmqctl runs one rabbitmqctl command on the local node.
func rabbitmqctl(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "rabbitmqctl", args...).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

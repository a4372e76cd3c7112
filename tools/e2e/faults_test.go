package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/tools/siisim"
)

// requireFaultRuns skips the long fault runs (minutes each) unless
// DTE_TEST_FAULTS=1: `make test-faults`, which `make test` runs on its
// own, after the other Go tests.
func requireFaultRuns(t *testing.T) {
	t.Helper()
	if os.Getenv("DTE_TEST_FAULTS") != "1" {
		t.Skip("a long fault run (minutes): it runs with DTE_TEST_FAULTS=1 (make test-faults, part of make test)")
	}
}

// manyDocs are n facturas with folios and Odoo moves of their own.
func (s *stack) manyDocs(first, n int) []doc {
	out := make([]doc, 0, n)
	for i := first; i < first+n; i++ {
		out = append(out, s.request(33, func(m map[string]any) {
			m["document"].(map[string]any)["folio"] = 2000 + i
			m["odoo"].(map[string]any)["move_id"] = 60000 + i
		}))
	}
	return out
}

// sendAtRate hands docs to enqueue, perSecond of them a second, in the
// background; the channel closes once all were accepted (202). A refused
// one fails the test.
func (s *stack) sendAtRate(docs []doc, perSecond int) <-chan struct{} {
	done := make(chan struct{})
	for _, d := range docs {
		s.Odoo.AddMove(d.move, d.key.String())
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for _, d := range docs {
			<-tick.C
			if _, err := s.enqueue(d.body); err != nil {
				s.t.Errorf("enqueue %s: %v", d.key, err)
			}
		}
	}()
	return done
}

// waitAccepted waits until Odoo shows every document accepted and returns
// when that happened.
func (s *stack) waitAccepted(timeout time.Duration, docs []doc) time.Time {
	s.t.Helper()
	waitFor(s.t, timeout, fmt.Sprintf("%d documents accepted", len(docs)), func() (bool, string) {
		left := 0
		var example string
		for _, d := range docs {
			if m, _ := s.Odoo.Move(d.move); m.Status != "accepted" {
				left++
				example = fmt.Sprintf("%s is %q", d.key, m.Status)
			}
		}
		return left == 0, fmt.Sprintf("%d not accepted yet, e.g. %s", left, example)
	})
	return time.Now()
}

// told counts the documents Odoo was told a status about (applied or not).
func (s *stack) told(docs []doc, status string) int {
	moves := map[int64]bool{}
	for _, d := range docs {
		moves[d.move] = true
	}
	seen := map[int64]bool{}
	for _, c := range s.Odoo.Received() {
		if c.Status == status && moves[c.MoveID] {
			seen[c.MoveID] = true
		}
	}
	return len(seen)
}

// inFlight counts the documents Odoo shows between queued and final.
func (s *stack) inFlight(docs []doc) int {
	n := 0
	for _, d := range docs {
		switch m, _ := s.Odoo.Move(d.move); m.Status {
		case "queued", "signed", "sent", "retrying":
			n++
		}
	}
	return n
}

// load is the machine's load average, for the figures.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// TestOutagesHealThemselves runs 300 facturas through two outages, with no
// manual step: S3 stopped for 60 s (nothing listens: every read and write
// of sign, submit and enqueue fails) while the first 150 go in, then the
// SII answering 500 to every call for 3 minutes while the other 150 go in.
// The stages retry by themselves (the fast tier, then the slow one, in
// seconds here: SLOW_RETRY_DELAYS=5s,10s,15s), Odoo shows those that wait
// as retrying and never as error, and every document ends accepted with
// one upload and its TrackID. The time each outage takes to heal, from its
// end to the last of its documents accepted, is logged.
func TestOutagesHealThemselves(t *testing.T) {
	requireFaultRuns(t)
	t.Parallel()
	s3 := requireS3(t)
	p := newLateProxy(t, s3.Endpoint)
	p.up(t)
	env := []string{"S3_ENDPOINT=" + p.URL()}
	s := newStack(t, stackOptions{functionEnv: map[string][]string{"enqueue": env, "sign": env, "submit": env}})
	const perPhase, rate = 150, 10
	first, second := s.manyDocs(0, perPhase), s.manyDocs(perPhase, perPhase)

	// S3 stopped for 60 s, 3 s into the first 150.
	sent := s.sendAtRate(first, rate)
	time.Sleep(3 * time.Second)
	p.down(t)
	s3Down := time.Now()
	time.Sleep(60 * time.Second)
	p.up(t)
	s3Up := time.Now()
	<-sent
	s3Healed := s.waitAccepted(10*time.Minute, first)
	waited1 := s.told(first, "retrying")

	// The SII answers 500 to everything for 3 minutes, 3 s into the next
	// 150.
	sent = s.sendAtRate(second, rate)
	time.Sleep(3 * time.Second)
	if err := s.SII.SetFaults(siisim.Faults{Fail5xx: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	siiDown := time.Now()
	time.Sleep(3 * time.Minute)
	s.SII.ClearFaults()
	siiUp := time.Now()
	<-sent
	siiHealed := s.waitAccepted(10*time.Minute, append(first, second...))
	waited2 := s.told(second, "retrying")

	all := append(first, second...)
	s.checkLedger(all, func(doc) want { return want{loose: true} })
	if n := s.told(all, "error"); n != 0 {
		t.Errorf("Odoo was told error about %d documents; the outages must heal without it", n)
	}
	if waited1 == 0 || waited2 == 0 {
		t.Errorf("documents shown retrying: %d during the S3 outage, %d during the SII's; each outage must have been felt", waited1, waited2)
	}
	t.Logf("S3 stopped %s: %d of %d documents waited in the slow tier (Odoo: retrying); all %d accepted %s after S3 came back",
		s3Up.Sub(s3Down).Round(time.Second), waited1, perPhase, perPhase, s3Healed.Sub(s3Up).Round(100*time.Millisecond))
	t.Logf("SII 5xx for %s: %d of %d documents waited in the slow tier; all %d accepted %s after the SII came back",
		siiUp.Sub(siiDown).Round(time.Second), waited2, perPhase, len(all), siiHealed.Sub(siiUp).Round(100*time.Millisecond))
	t.Logf("%d upload calls to the SII (those answered 500 during its outage included) for %d documents, each taken once; load average %s", s.SII.Stats()[siisim.OpUpload], len(all), load())
}

// TestPermanentFailureIsErrorAtOnce: a failure no retry can fix (a folio
// outside every CAF) is not retried: Odoo shows error within seconds,
// never retrying, and nothing was uploaded.
func TestPermanentFailureIsErrorAtOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	d := s.request(33, func(m map[string]any) { m["document"].(map[string]any)["folio"] = 200000 })
	start := time.Now()
	s.send(d)
	s.waitStatus("error", d)
	took := time.Since(start)
	var seq []string
	var msg string
	for _, c := range s.callbacksOf(d.move) {
		seq = append(seq, c.Status)
		if c.Status == "error" {
			msg = c.Message
		}
	}
	if strings.Join(seq, " ") != "queued error" || !strings.Contains(msg, "Falló la firma") || !strings.Contains(msg, "CAF") {
		t.Errorf("Odoo was told %v (%q); want queued, then error at once naming the signing and the CAF", seq, msg)
	}
	if n := s.SII.Stats()[siisim.OpUpload]; n != 0 {
		t.Errorf("%d uploads of a document that failed for good", n)
	}
	if strings.Contains(s.functionLog("sign"), `"result":"retry`) {
		t.Error("sign retried a permanent failure")
	}
	t.Logf("error shown in Odoo %s after the request (load average %s)", took.Round(10*time.Millisecond), load())
}

// TestIdenticalRequestsAtOnce sends 20 identical requests at once for
// each of 10 folios (the same invoices sent again and again): 10
// documents, each with exactly one upload, and Odoo applies queued,
// signed, sent with the TrackID, then accepted, and ignores nothing: a
// copy never settles a document ahead of its upload, and the TrackID
// always arrives. notify delivers one callback at a time, as in kn/.
func TestIdenticalRequestsAtOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{notifyParallelism: 1})
	docs := s.manyDocs(500, 10)
	s.sendCopiesAtOnce(docs, 20)
	s.waitAccepted(3*time.Minute, docs)
	// The copies still waiting for the upload's result come back after
	// LOST_UPLOAD_GRACE (25 s) and only re-announce it: let them.
	time.Sleep(30 * time.Second)
	s.checkLedger(docs, nil)
	for _, d := range docs {
		for _, c := range s.callbacksOf(d.move) {
			if c.Result == "ignored" {
				t.Errorf("%s: Odoo ignored %s (%s): %s", d.key, c.Status, c.EventID, callbackList(s.callbacksOf(d.move)))
			}
		}
	}
	if n := s.SII.Stats()[siisim.OpUpload]; n != len(docs) {
		t.Errorf("%d uploads for %d documents", n, len(docs))
	}
	if n := s.SII.Stats()[siisim.OpGetEstDte]; n != 0 {
		t.Errorf("%d per-document queries: a copy treated an upload in progress as lost", n)
	}
}

// sendCopiesAtOnce registers each document's move in Odoo and enqueues
// copies identical requests for each, all at the same moment.
func (s *stack) sendCopiesAtOnce(docs []doc, copies int) {
	s.t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, d := range docs {
		s.Odoo.AddMove(d.move, d.key.String())
		for range copies {
			wg.Go(func() {
				<-start
				if _, err := s.enqueue(d.body); err != nil {
					s.t.Errorf("enqueue %s: %v", d.key, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
}

// TestDispatcherKilledMidRun kills the dispatcher (SIGKILL: its connections
// to the functions and to RabbitMQ are cut mid-delivery) twice while 120
// facturas go through, and starts it again. The functions finish what they
// started (their work is detached from the dispatcher's connection); the
// deliveries the kill left unacknowledged come again and find the work
// done. Every document ends accepted, with one upload, and Odoo has its
// TrackID.
func TestDispatcherKilledMidRun(t *testing.T) {
	requireFaultRuns(t)
	t.Parallel()
	s := newStack(t, stackOptions{dispatcherProcess: true})
	docs := s.manyDocs(1000, 120)
	sent := s.sendAtRate(docs, 10)
	var back time.Time
	for _, after := range []time.Duration{3 * time.Second, 5 * time.Second} {
		time.Sleep(after)
		if err := s.Kill("dispatcher"); err != nil {
			t.Fatal(err)
		}
		if n := s.inFlight(docs); n == 0 {
			t.Errorf("no document was in flight when the dispatcher was killed: the kill proves nothing")
		}
		time.Sleep(2 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := s.Restart(ctx, "dispatcher"); err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		back = time.Now()
	}
	<-sent
	done := s.waitAccepted(5*time.Minute, docs)
	s.checkLedger(docs, func(doc) want { return want{loose: true} })
	for _, d := range docs {
		if m, _ := s.Odoo.Move(d.move); m.TrackID == "" {
			t.Errorf("%s: Odoo has no TrackID", d.key)
		}
	}
	t.Logf("dispatcher killed twice: all %d accepted %s after its last restart (load average %s)",
		len(docs), done.Sub(back).Round(100*time.Millisecond), load())
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/tools/siisim"
)

// unreachableAMQP is where the dte command's AMQP_URL points in these
// tests, so that only its --amqp-url flag can reach the broker.
const unreachableAMQP = "amqp://guest:guest@127.0.0.1:1/"

// runDTE runs the dte command built by TestMain and returns its output.
func runDTE(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "dte"), args...)
	cmd.Env = append(os.Environ(), "AMQP_URL="+unreachableAMQP)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSIIDownDeadLetterReplay keeps the SII failing longer than the retry
// budget (12 s here, RETRY_BUDGET; 24 h by default): the upload is tried
// in the fast tier, then in the slow one (Odoo shows retrying), then given
// up: dead-lettered (dte.dead, drained by notify, and dte.dead.parked,
// kept), and Odoo is told `error` naming the stage. Once the SII is back,
// `dte dead replay` completes the document with a new budget: accepted,
// with one accepted upload.
func TestSIIDownDeadLetterReplay(t *testing.T) {
	t.Parallel()
	retry := []string{"SLOW_RETRY_DELAYS=2s", "RETRY_BUDGET=12s"}
	s := newStack(t, stackOptions{functionEnv: map[string][]string{"sign": retry, "submit": retry}})
	if err := s.SII.SetFaults(siisim.Faults{Fail5xx: 1000, Ops: []string{siisim.OpUpload}}); err != nil {
		t.Fatal(err)
	}
	d := s.request(33, nil)
	s.send(d)
	s.waitStatus("error", d)
	var failure string
	for _, c := range s.callbacksOf(d.move) {
		if c.Status == "error" && c.Result == "applied" {
			failure = c.Message
		}
	}
	for _, want := range []string{callback.StageName("submit"), "retry budget exhausted", "dte dead replay " + d.key.String()} {
		if !strings.Contains(failure, want) {
			t.Errorf("Odoo's error %q does not name %q", failure, want)
		}
	}
	waitFor(t, settleTimeout, "dte.dead drained and the dead letter parked", func() (bool, string) {
		dead, parked := queueDepth(t, s.amqpURL, bus.QueueDead), queueDepth(t, s.amqpURL, bus.QueueDeadParked)
		return dead == 0 && parked == 1, fmt.Sprintf("dte.dead %d, dte.dead.parked %d", dead, parked)
	})
	ds := s.signedDeliveries(d)
	if len(ds) < 5 || ds[len(ds)-1].Action != "dead-lettered" || ds[len(ds)-1].Status != 422 {
		t.Errorf("deliveries of the signed event: %+v; want retries through both tiers, then dead-lettered at once (422)", ds)
	}
	for _, x := range ds[:len(ds)-1] {
		if x.Action != "delivered" || x.Attempt != 1 {
			t.Errorf("delivery %+v: submit retries itself, each delivery answered 2xx", x)
		}
	}
	uploads := s.SII.Stats()[siisim.OpUpload]
	if uploads != len(ds) {
		t.Errorf("%d upload calls before the dead letter, want %d (one per delivery)", uploads, len(ds))
	}

	s.SII.ClearFaults()
	// An operator replays after Odoo shows the error. occurred_at has a
	// resolution of one second and, from error, Odoo moves on only for an
	// event of a later second (or a final status): replay in the next one.
	s.waitStatus("error", d)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	out, err := runDTE(t, "dead", "--amqp-url", s.amqpURL, "list")
	if err != nil || !strings.Contains(out, d.key.String()) || !strings.Contains(out, bus.QueueSubmit) {
		t.Fatalf("dte dead list: %v\n%s", err, out)
	}
	out, err = runDTE(t, "dead", "--amqp-url", s.amqpURL, "replay", d.key.String())
	if err != nil || !strings.Contains(out, "1 replayed, 0 skipped, 0 left") {
		t.Fatalf("dte dead replay: %v\n%s", err, out)
	}
	s.waitStatus("accepted", d)
	s.checkLedger([]doc{d}, func(doc) want {
		return want{applied: []string{"queued", "signed", "retrying", "error", "sent", "accepted"}}
	})
	if got := s.SII.Stats()[siisim.OpUpload]; got != uploads+1 {
		t.Errorf("%d upload calls in all, want %d (%d refused, 1 accepted)", got, uploads+1, uploads)
	}
	if n := queueDepth(t, s.amqpURL, bus.QueueDeadParked); n != 0 {
		t.Errorf("%d messages still parked after the replay", n)
	}
}

// TestRetryNow: a document waits in the slow tier for an hour (the SII
// was down); once the SII is back, `dte retry now DTEKEY` sends its retry
// at once, and it is accepted without waiting.
func TestRetryNow(t *testing.T) {
	t.Parallel()
	retry := []string{"SLOW_RETRY_DELAYS=1h", "RETRY_BUDGET=3h"}
	s := newStack(t, stackOptions{functionEnv: map[string][]string{"submit": retry}})
	if err := s.SII.SetFaults(siisim.Faults{Fail5xx: 3, Ops: []string{siisim.OpUpload}}); err != nil {
		t.Fatal(err)
	}
	d := s.request(33, nil)
	s.send(d)
	s.waitStatus("retrying", d)
	var next string
	for _, c := range s.callbacksOf(d.move) {
		if c.Status == "retrying" {
			next = c.NextAttemptAt
		}
	}
	if at, err := time.Parse(time.RFC3339, next); err != nil || time.Until(at) < 50*time.Minute {
		t.Fatalf("the next attempt is told as %q, want about an hour from now", next)
	}
	out, err := runDTE(t, "retry", "--amqp-url", s.amqpURL, "now", d.key.String())
	if err != nil || !strings.Contains(out, "retrying now "+d.key.String()) || !strings.Contains(out, "1 retried now") {
		t.Fatalf("dte retry now: %v\n%s", err, out)
	}
	s.waitStatus("accepted", d)
	s.checkLedger([]doc{d}, func(doc) want { return want{applied: []string{"queued", "signed", "retrying", "sent", "accepted"}} })
	if out, err := runDTE(t, "retry", "--amqp-url", s.amqpURL, "now", "--all"); err != nil || !strings.Contains(out, "0 retried now") {
		t.Errorf("dte retry now --all with nothing waiting: %v\n%s", err, out)
	}
}

// TestDeadReplayFlagsAfterKeys runs `dte dead replay DTEKEY --amqp-url URL`,
// flags after the keys, the way `--all` is accepted there. The command must
// use the URL given, not read "--amqp-url" and the URL as two more keys and
// go to the broker of AMQP_URL (or the local default) instead.
func TestDeadReplayFlagsAfterKeys(t *testing.T) {
	t.Parallel()
	vhost := bustest.VHost(t)
	declareTopology(t, vhost)
	out, err := runDTE(t, "dead", "replay", "76086428-5-33-1042", "--amqp-url", vhost)
	if err != nil || !strings.Contains(out, "0 replayed") {
		t.Errorf("dte dead replay DTEKEY --amqp-url URL: %v\n%s\n(tools/cmd/dte/cmd_dead.go runDead: the flag package stops at the first argument "+
			"that is not a flag; only --all is picked out of the rest, so the flag and its value are taken as DTEKEYs and the default URL is used)", err, out)
	}
}

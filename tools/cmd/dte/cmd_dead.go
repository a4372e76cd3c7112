package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

func runDead(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "dead", "list | replay [DTEKEY...|--all]")
	url := fs.String("amqp-url", envOr(env, "AMQP_URL", defaultAMQPURL), "broker URL (env AMQP_URL)")
	all := fs.Bool("all", false, "replay: every dead letter")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || (fs.Arg(0) != "list" && fs.Arg(0) != "replay") {
		fs.Usage()
		return exitError{code: 2}
	}
	sub, keys := fs.Arg(0), map[string]bool{}
	for _, k := range fs.Args()[1:] {
		if sub == "list" {
			fs.Usage()
			return exitError{code: 2, msg: "list takes no arguments"}
		}
		if _, err := dtekey.Parse(k); err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		keys[k] = true
	}
	if sub == "replay" && !*all && len(keys) == 0 {
		return exitError{code: 2, msg: "replay what? give DTEKEYs or --all"}
	}
	conn, err := amqp.DialConfig(*url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redactURL(*url), err)
	}
	defer conn.Close()
	// Closing the channel returns every message we looked at but did not
	// acknowledge to the queue.
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	letters, err := browse(ch)
	if err != nil {
		return err
	}
	if sub == "list" {
		printDead(env, letters)
		return nil
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	replayed, skipped := 0, 0
	for _, l := range letters {
		if !*all && !keys[l.dtekey] {
			continue
		}
		if l.queue == "" || l.queue == bus.QueueDead {
			fmt.Fprintf(env.stderr, "skip %s (%s): not a pipeline event or its queue is unknown\n", l.d.MessageId, l.dtekey)
			skipped++
			continue
		}
		if err := replay(ctx, ch, l); err != nil {
			return fmt.Errorf("replay %s: %w", l.d.MessageId, err)
		}
		fmt.Fprintf(env.stdout, "replayed %s %s → %s\n", l.dtekey, l.ceType, l.queue)
		replayed++
	}
	fmt.Fprintf(env.stdout, "%d replayed, %d skipped, %d left in %s\n", replayed, skipped, len(letters)-replayed, bus.QueueDeadParked)
	return nil
}

// deadLetter is one parked message and what we know about it.
type deadLetter struct {
	d      amqp.Delivery
	dtekey string
	ceType string
	queue  string // the queue it died in
	reason string
	at     string
}

// browse takes every parked message without acknowledging it.
func browse(ch *amqp.Channel) ([]deadLetter, error) {
	var out []deadLetter
	for {
		d, ok, err := ch.Get(bus.QueueDeadParked, false)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", bus.QueueDeadParked, err)
		}
		if !ok {
			return out, nil
		}
		l := deadLetter{d: d}
		if e, err := events.Unmarshal(d.Body); err == nil {
			l.ceType = e.Type()
			l.dtekey, _ = e.Extensions()[events.ExtDTEKey].(string)
		}
		l.queue, _ = d.Headers[dispatch.HeaderDeadQueue].(string)
		l.reason, _ = d.Headers[dispatch.HeaderDeadReason].(string)
		l.at, _ = d.Headers[dispatch.HeaderDeadAt].(string)
		if deaths, ok := d.Headers["x-death"].([]any); ok && len(deaths) > 0 {
			if t, ok := deaths[0].(amqp.Table); ok {
				if l.queue == "" {
					l.queue, _ = t["queue"].(string)
				}
				if l.reason == "" {
					r, _ := t["reason"].(string)
					l.reason = "broker: " + r
				}
				if tm, ok := t["time"].(time.Time); ok && l.at == "" {
					l.at = tm.UTC().Format(time.RFC3339)
				}
			}
		}
		out = append(out, l)
	}
}

func printDead(env *cliEnv, letters []deadLetter) {
	if len(letters) == 0 {
		fmt.Fprintln(env.stdout, "no dead letters")
		return
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DTEKEY\tTYPE\tDIED IN\tAT\tLAST ERROR")
	for _, l := range letters {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", orDash(l.dtekey), orDash(l.ceType), orDash(l.queue), orDash(l.at), truncateText(l.reason, 100))
	}
	w.Flush()
	fmt.Fprintf(env.stdout, "%d dead letters in %s\n", len(letters), bus.QueueDeadParked)
}

// replay sends the original message back to the queue it died in, with a
// fresh attempt count and retry budget, and removes it from the parking
// queue once the broker confirmed the copy.
func replay(ctx context.Context, ch *amqp.Channel, l deadLetter) error {
	body := l.d.Body
	// A replay starts a new retry budget: the event's retry history (it
	// died once its budget was spent) is dropped.
	if e, err := events.Unmarshal(body); err == nil && events.HasRetry(e) {
		if body, err = events.Marshal(events.WithoutRetry(e)); err != nil {
			return fmt.Errorf("re-encode without its retry history: %w", err)
		}
	}
	return requeue(ctx, ch, l.d, l.queue, body,
		bus.HeaderAttempts, dispatch.HeaderDeadQueue, dispatch.HeaderDeadReason, dispatch.HeaderDeadAt, dispatch.HeaderDeadAttempts)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

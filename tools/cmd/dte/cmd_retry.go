package main

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/deadletter"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

// runRetry is `dte retry now DTEKEY...|--all`: the documents waiting in the
// retry tiers (docs/design.md, "Retries") are tried again at once, without
// waiting for their next attempt.
func runRetry(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "retry", "now DTEKEY...|--all")
	url := fs.String("amqp-url", envOr(env, "AMQP_URL", defaultAMQPURL), "broker URL (env AMQP_URL)")
	all := fs.Bool("all", false, "every document waiting for a retry")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || fs.Arg(0) != "now" {
		fs.Usage()
		return exitError{code: 2}
	}
	keys := map[string]bool{}
	for _, k := range fs.Args()[1:] {
		if _, err := dtekey.Parse(k); err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		keys[k] = true
	}
	if !*all && len(keys) == 0 {
		return exitError{code: 2, msg: "retry which documents? give DTEKEYs or --all"}
	}
	conn, err := amqp.DialConfig(*url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redactURL(*url), err)
	}
	defer conn.Close()
	// Closing the channel returns every message looked at but not taken
	// to its delay queue.
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		return err
	}
	moved, waiting := 0, 0
	for _, tier := range bus.DelayTiers() {
		q := bus.DelayQueue(tier)
		for {
			d, ok, err := ch.Get(q, false)
			if err != nil {
				return fmt.Errorf("read %s: %w", q, err)
			}
			if !ok {
				break
			}
			e, err := events.Unmarshal(d.Body)
			if err != nil || !events.HasRetry(e) {
				continue // a status check or a note waiting: not a retry
			}
			k, _ := e.Extensions()[events.ExtDTEKey].(string)
			if !*all && !keys[k] {
				waiting++
				continue
			}
			// Straight to dte.direct under the routing key it waits for
			// (its function's queue), without its delay tier.
			if err := deadletter.Requeue(ctx, ch, d, d.RoutingKey, d.Body, bus.HeaderDelay); err != nil {
				return fmt.Errorf("retry %s (%s): %w", k, e.Type(), err)
			}
			n, since := events.RetryOf(e)
			fmt.Fprintf(env.stdout, "retrying now %s %s → %s (%d failed attempts since %s; was waiting in %s)\n",
				k, e.Type(), d.RoutingKey, n, since.UTC().Format(time.RFC3339), q)
			moved++
		}
	}
	fmt.Fprintf(env.stdout, "%d retried now, %d other retries left waiting\n", moved, waiting)
	return nil
}

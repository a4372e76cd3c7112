package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/deadletter"
	"github.com/dtecl/pipeline/shared/dtekey"
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
	if sub == "list" {
		var letters []deadletter.Letter
		err := bus.WithChannel(*url, 5*time.Second, func(ch *amqp.Channel) error {
			// Closing the channel returns every message we looked at.
			var err error
			letters, err = deadletter.Browse(ch)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", redactURL(*url), err)
		}
		printDead(env, letters)
		return nil
	}
	res, err := deadletter.ReplayMatching(ctx, *url, func(l deadletter.Letter) bool { return *all || keys[l.DTEKey] })
	for _, l := range res.Skipped {
		fmt.Fprintf(env.stderr, "skip %s (%s): not a pipeline event or its queue is unknown\n", l.MessageID(), l.DTEKey)
	}
	for _, l := range res.Replayed {
		fmt.Fprintf(env.stdout, "replayed %s %s → %s\n", l.DTEKey, l.Type, l.Queue)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", redactURL(*url), err)
	}
	fmt.Fprintf(env.stdout, "%d replayed, %d skipped, %d left in %s\n", len(res.Replayed), len(res.Skipped), res.Left, bus.QueueDeadParked)
	return nil
}

func printDead(env *cliEnv, letters []deadletter.Letter) {
	if len(letters) == 0 {
		fmt.Fprintln(env.stdout, "no dead letters")
		return
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DTEKEY\tTYPE\tDIED IN\tAT\tLAST ERROR")
	for _, l := range letters {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", orDash(l.DTEKey), orDash(l.Type), orDash(l.Queue), orDash(l.At), truncateText(l.Reason, 100))
	}
	w.Flush()
	fmt.Fprintf(env.stdout, "%d dead letters in %s\n", len(letters), bus.QueueDeadParked)
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

package main

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/bus"
)

func runTopology(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "topology", "[flags]")
	url := fs.String("amqp-url", envOr(env, "AMQP_URL", defaultAMQPURL), "broker URL (env AMQP_URL)")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q: topology takes only flags", fs.Arg(0))}
	}
	t, err := bus.DeclareAt(*url, 5*time.Second)
	if err != nil {
		return fmt.Errorf("%s: %w", redactURL(*url), err)
	}
	fmt.Fprintf(env.stdout, "declared on %s: %d exchanges, %d queues, %d bindings\n", redactURL(*url), len(t.Exchanges), len(t.Queues), len(t.Bindings))
	for _, q := range t.Queues {
		fmt.Fprintf(env.stdout, "  queue %-16s %v\n", q.Name, q.Args)
	}
	return nil
}

// redactURL hides the password of a broker URL in messages.
func redactURL(s string) string {
	u, err := amqp.ParseURI(s)
	if err != nil {
		return "(invalid URL)"
	}
	u.Password = "xxx"
	return u.String()
}

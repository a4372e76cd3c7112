// Command dte is the operator's and developer's handle on the pipeline:
// offline document work, the broker topology, sending requests, the archive,
// CAF files, the dead-letter queue, the SII simulator and the local stack.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. run gets the arguments after the command name.
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv carries what every command may use instead of globals.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() map[string]command {
	return map[string]command{
		"send":      {"send FILE.json: sign a DTE request like the Odoo addon and POST it to enqueue", runSend},
		"load":      {"load --rate 500 --duration 60s: drive enqueue at a fixed rate from outside and report latency", runLoad},
		"topology":  {"declare the RabbitMQ topology (exchanges, queues, bindings); idempotent", runTopology},
		"sign":      {"sign a DTE request offline: request JSON + certificate + CAF → signed DTE XML", runSign},
		"envelope":  {"wrap signed DTEs in a signed EnvioDTE", runEnvelope},
		"verify":    {"verify a DTE or EnvioDTE: signatures, TEDs, CAFs", runVerify},
		"print":     {"print a signed DTE as PDF (letter or ticket) with its timbre as a PDF417", runPrint},
		"siisim":    {"run the SII simulator (certification endpoints) on a port", runSIISim},
		"caf":       {"manage CAF files in the archive: caf add FILE..., caf list", runCAF},
		"status":    {"status DTEKEY: a document's state and history from the archive", runStatus},
		"archive":   {"archive url DTEKEY: a presigned link to a document's signed XML (--envio, --state)", runArchive},
		"dead":      {"dead list | dead replay [DTEKEY|--all]: the dead-letter queue", runDead},
		"retry":     {"retry now DTEKEY...|--all: documents waiting for their next retry are tried at once", runRetry},
		"local":     {"run the whole pipeline locally and send the sample invoices", runLocal},
		"dispatch":  {"dispatch --config FILE: feed queues to functions over HTTP (the OpenFaaS connector)", runDispatch},
		"dashboard": {"the live operations dashboard: a web page of every document, queue, dead letter and CAF", runDashboard},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(ctx, env, os.Args[1:]))
}

func run(ctx context.Context, env *cliEnv, args []string) int {
	cmds := commands()
	if len(args) == 0 {
		usage(env.stderr, cmds)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && name == "help" {
			// dte help COMMAND: that command's usage.
			if _, ok := cmds[args[1]]; ok {
				return run(ctx, env, []string{args[1], "-h"})
			}
			fmt.Fprintf(env.stderr, "dte help: unknown command %q\n\n", args[1])
			usage(env.stderr, cmds)
			return 2
		}
		usage(env.stdout, cmds)
		return 0
	}
	c, ok := cmds[name]
	if !ok {
		fmt.Fprintf(env.stderr, "dte: unknown command %q\n\n", name)
		usage(env.stderr, cmds)
		return 2
	}
	if err := c.run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // help was asked for and printed
		}
		var ee exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(env.stderr, "dte "+name+": "+ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(env.stderr, "dte %s: %v\n", name, err)
		return 1
	}
	return 0
}

// exitError ends a command with a specific exit code (e.g. 1 for "verified:
// invalid") after the command printed its own report.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: dte COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'dte help COMMAND' or 'dte COMMAND -h' for a command's flags; flags may come\nbefore or after the arguments ('--' ends the flags).")
}

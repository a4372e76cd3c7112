// Command signerbench compares DTE signers on one core each, in one run
// (make bench-signer): this repository's shared/dte in the standard Go
// build and in other builds (e.g. GOEXPERIMENT=boringcrypto), and the
// Python lxml + xmlsec stack on OpenSSL (python-xmlsec), and lxml with
// OpenSSL's RSA but without xmlsec (python-openssl). Each signer first signs the same
// request at the same time and must write the same document (digest, TED
// signature and signature value); then every signer runs for a few
// seconds per round, rounds interleaved, and the table reports DTEs per
// CPU second with the machine's load.
//
//	signerbench -go std=out/signerbench/std -boring boringcrypto=out/signerbench/boringcrypto
//	signerbench worker -fixture DIR -request FILE -for 3      (what each Go signer runs)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dtecl/pipeline/tools/signerbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		err = signerbench.WorkerMain(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "signerbench:", err)
		os.Exit(1)
	}
}

// variants is a repeatable NAME=BINARY flag.
type variants struct {
	list   *[]signerbench.Variant
	boring bool
}

func (v variants) String() string { return "" }

func (v variants) Set(s string) error {
	name, bin, ok := strings.Cut(s, "=")
	if !ok || name == "" || bin == "" {
		return fmt.Errorf("%q: want NAME=BINARY", s)
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	*v.list = append(*v.list, signerbench.Variant{
		Name: name, Command: []string{abs, "worker"}, Env: []string{"GOMAXPROCS=1"}, Boring: v.boring,
	})
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var vs []signerbench.Variant
	fs := flag.NewFlagSet("signerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(variants{list: &vs}, "go", "a Go signer: NAME=BINARY (this command built some way); repeatable, the first is the baseline")
	fs.Var(variants{list: &vs, boring: true}, "boring", "a Go signer that must run on BoringCrypto: NAME=BINARY; repeatable")
	python := fs.String("python", "/usr/bin/python3", `the Python of the lxml + xmlsec peer ("" leaves it out)`)
	rounds := fs.Int("rounds", 5, "rounds; each runs every signer once")
	secs := fs.Float64("for", 3, "seconds per signer and round")
	req := fs.String("request", "samples/requests/factura-33.json", "the DTE request to sign")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	dir, err := os.MkdirTemp("", "signerbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *python != "" {
		if out, err := exec.CommandContext(ctx, *python, "-c", "import lxml, xmlsec, cryptography").CombinedOutput(); err != nil {
			return fmt.Errorf("the Python peer needs lxml, xmlsec and cryptography for %s (apt-get install python3-lxml python3-xmlsec python3-cryptography; -python \"\" leaves it out): %v: %s",
				*python, err, strings.TrimSpace(string(out)))
		}
		script := filepath.Join(dir, "sign_dte.py")
		if err := os.WriteFile(script, signerbench.PythonScript, 0o644); err != nil {
			return err
		}
		vs = append(vs,
			signerbench.Variant{Name: "python-xmlsec", Command: []string{*python, script, "-flavour", "xmlsec"}},
			signerbench.Variant{Name: "python-openssl", Command: []string{*python, script, "-flavour", "openssl"}})
	}
	abs, err := filepath.Abs(*req)
	if err != nil {
		return err
	}
	rep, err := signerbench.Run(ctx, signerbench.Config{
		Variants: vs, Request: abs, Rounds: *rounds, Duration: time.Duration(*secs * float64(time.Second)), Dir: dir,
		Progress: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return rep.WriteTable(stdout)
}

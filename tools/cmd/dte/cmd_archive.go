package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// defaultURLExpiry is how long `dte archive url` links work by default.
const defaultURLExpiry = time.Hour

// runArchive is `dte archive url DTEKEY`: the archive seen from outside the
// pipeline. Browsing itself is left to any S3 client (README, "Browsing the
// archive").
func runArchive(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) > 0 && args[0] == "url" {
		return runArchiveURL(ctx, env, args[1:])
	}
	return subcommandUsage(env, args, "url",
		"usage: dte archive url [flags] DTEKEY   a presigned link to the signed DTE (--envio: its EnvioDTE, --state: its state, --pdf: its printout, --receiver: its receiver's EnvioDTE)",
		"Run 'dte archive url -h' for its flags.")
}

// runArchiveURL prints a presigned GET link to one of a document's objects,
// after checking that the object is there: a link to nothing helps nobody.
func runArchiveURL(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "archive url", "[flags] DTEKEY   (e.g. 76086428-5-33-1042)")
	expires := fs.Duration("expires", defaultURLExpiry, fmt.Sprintf("how long the link works (at most %v)", archive.MaxPresignExpiry))
	envio := fs.Bool("envio", false, "link the EnvioDTE the document was sent to the SII in, instead of the signed DTE")
	state := fs.Bool("state", false, "link the document's state (JSON), instead of the signed DTE")
	pdf := fs.Bool("pdf", false, "link the printed DTE (PDF, made once the SII accepted it), instead of the signed DTE")
	receiver := fs.Bool("receiver", false, "link the EnvioDTE addressed to the receiver (made once the SII accepted it, for a receiver with a DTE exchange address), instead of the signed DTE")
	s3f := addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "want exactly one DTEKEY, e.g. 76086428-5-33-1042"}
	}
	if n := countTrue(*envio, *state, *pdf, *receiver); n > 1 {
		return exitError{code: 2, msg: "--envio, --state, --pdf and --receiver: choose one"}
	}
	if *expires <= 0 || *expires > archive.MaxPresignExpiry {
		return exitError{code: 2, msg: fmt.Sprintf("--expires %v: want more than 0 and at most %v (168h)", *expires, archive.MaxPresignExpiry)}
	}
	k, err := dtekey.Parse(fs.Arg(0))
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	store, err := s3f.open(env)
	if err != nil {
		return err
	}
	var key, what string
	switch {
	case *pdf:
		what = "printed DTE"
		key, err = archive.PDFObjectKey(k)
	case *receiver:
		what = "receiver's EnvioDTE"
		key, err = archive.ReceiverEnvelopeObjectKey(k)
	default:
		key, what, err = urlTarget(ctx, store, k, *envio, *state)
	}
	if err != nil {
		return err
	}
	if _, err := store.Get(ctx, key); err != nil {
		if errors.Is(err, archive.ErrNotFound) {
			return fmt.Errorf("%s: no %s at %s in the archive (%s)", k, what, key, where(store))
		}
		return err
	}
	link, err := store.PresignGet(ctx, key, *expires)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, link)
	fmt.Fprintf(env.stderr, "%s of %s (%s), valid until %s\n", what, k, key, time.Now().Add(*expires).UTC().Format(time.RFC3339))
	return nil
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// urlTarget is the object key to link and what it is. The EnvioDTE's key
// is known only from the state.
func urlTarget(ctx context.Context, store *archive.S3, k dtekey.Key, envio, state bool) (key, what string, err error) {
	switch {
	case state:
		key, err = archive.StateObjectKey(k)
		return key, "state", err
	case !envio:
		key, err = archive.DTEObjectKey(k)
		return key, "signed DTE", err
	}
	st, _, err := archive.New(store).LoadState(ctx, k)
	if errors.Is(err, archive.ErrNotFound) {
		return "", "", fmt.Errorf("%s: no state in the archive (%s): the pipeline has not seen this document", k, where(store))
	}
	if err != nil {
		return "", "", err
	}
	if st.EnvioKey == "" {
		return "", "", fmt.Errorf("%s: not sent to the SII yet (status %s): no EnvioDTE", k, st.Status)
	}
	return st.EnvioKey, "EnvioDTE", nil
}

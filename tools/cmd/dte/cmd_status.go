package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// runStatus is `dte status DTEKEY`: what the archive knows about one
// document, its state and history, as a table or (--json) as stored.
func runStatus(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "status", "[flags] DTEKEY   (e.g. 76086428-5-33-1042)")
	asJSON := fs.Bool("json", false, "print the state object as stored (JSON)")
	s3f := addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "want exactly one DTEKEY, e.g. 76086428-5-33-1042"}
	}
	k, err := dtekey.Parse(fs.Arg(0))
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	store, err := s3f.open(env)
	if err != nil {
		return err
	}
	notFound := func() error {
		// sign writes no state: a signed DTE without one is a document
		// between sign and its upload (or stuck there).
		if _, err := archive.New(store).DTERequest(ctx, k); err == nil {
			key, _ := archive.DTEObjectKey(k) // DTERequest found it there
			return fmt.Errorf("%s: no state in the archive (%s) yet: its DTE is signed (%s) and nothing of its upload to the SII is recorded; look for it in dte.submit or dte.dead", k, where(store), key)
		}
		return fmt.Errorf("%s: no state in the archive (%s): the pipeline has not seen this document", k, where(store))
	}
	if *asJSON {
		key, err := archive.StateObjectKey(k)
		if err != nil {
			return err
		}
		obj, err := store.Get(ctx, key)
		if errors.Is(err, archive.ErrNotFound) {
			return notFound()
		}
		if err != nil {
			return err
		}
		_, err = env.stdout.Write(obj.Body)
		return err
	}
	st, _, err := archive.New(store).LoadState(ctx, k)
	if errors.Is(err, archive.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return err
	}
	files, err := handedOver(ctx, store, k, st.Status)
	if err != nil {
		return err
	}
	return printState(env.stdout, st, files...)
}

// handedOver lists what the customer receives of an accepted document
// (docs/design.md, "What the customer receives"), as table rows: the
// printed DTE and the receiver's EnvioDTE, those the archive holds.
func handedOver(ctx context.Context, store archive.Store, k dtekey.Key, status string) ([][2]string, error) {
	if status != archive.StatusAccepted && status != archive.StatusObjected {
		return nil, nil
	}
	var rows [][2]string
	for _, f := range []struct {
		name string
		key  func(dtekey.Key) (string, error)
	}{{"printed DTE", archive.PDFObjectKey}, {"receiver EnvioDTE", archive.ReceiverEnvelopeObjectKey}} {
		key, err := f.key(k)
		if err != nil {
			return nil, err
		}
		infos, err := store.List(ctx, key)
		if err != nil {
			return nil, err
		}
		for _, info := range infos {
			if info.Key == key {
				rows = append(rows, [2]string{f.name, fmt.Sprintf("%s (%d bytes)", key, info.Size)})
			}
		}
	}
	return rows, nil
}

// printState writes the state as two aligned blocks: the fields that are
// set, then the history.
func printState(w io.Writer, st archive.State, files ...[2]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s\t%s\n", name, value)
		}
	}
	row("document", st.DTEKey)
	row("status", st.Status)
	row("updated", formatTime(st.UpdatedAt))
	row("request", st.RequestDigest)
	row("signed DTE", st.ArchiveKey)
	row("DTE sha256", st.Digest)
	row("EnvioDTE", st.EnvioKey)
	for _, f := range files {
		row(f[0], f[1])
	}
	if st.UploadStartedAt != nil {
		row("upload started", formatTime(*st.UploadStartedAt))
	}
	row("track id", st.TrackID)
	row("SII state", strings.TrimSpace(st.SIIState+"  "+st.SIIMessage))
	if st.Checks > 0 {
		row("status checks", fmt.Sprint(st.Checks))
	}
	fmt.Fprintln(tw)
	if len(st.History) == 0 {
		fmt.Fprintln(tw, "history\t(empty)")
	} else {
		fmt.Fprintln(tw, "AT\tSTATUS\tEVENT\tDETAIL")
		for _, e := range st.History {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", formatTime(e.At), e.Status, dash(e.EventID), oneLine(e.Detail))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads the last column too; drop the trailing blanks.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a multi-line SII detail on its table row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

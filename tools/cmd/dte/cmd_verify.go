package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/xmlsig"
	"github.com/dtecl/pipeline/tools/xsd"
)

// runVerify is `dte verify`: any DTE, EnvioDTE or EnvioBOLETA → what
// verifies and what does not, the way the SII checks it, failing closed.
// Exit status 0 when every file is valid, 1 otherwise.
func runVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "verify", "[flags] FILE.xml...")
	keysDir := fs.String("sii-keys", "", siiKeysHelp)
	asJSON := fs.Bool("json", false, "print the reports as JSON (one object per file)")
	allowUnknown := fs.Bool("allow-unknown-caf-key", false, "DOWNGRADE for certification work: let a CAF whose IDK has no SII key pass unverified (the report says so in its first line)")
	maxSize := fs.Int64("max-size", xmlsig.DefaultMaxBytes, "largest file verified, in bytes (larger ones are refused unread: too-large)")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{code: 2, msg: "want at least one file"}
	}
	if *maxSize <= 0 {
		return exitError{code: 2, msg: fmt.Sprintf("--max-size %d: want a positive number of bytes", *maxSize)}
	}
	keys, err := loadSIIKeys(env, *keysDir)
	if err != nil {
		return err
	}
	schema, err := xsd.NewSII()
	if err != nil {
		return fmt.Errorf("the SII's schemas: %w", err)
	}
	defer schema.Close()
	opts := dte.VerifyOptions{Keys: keys, Schema: schema, Limits: xmlsig.Limits{MaxBytes: *maxSize}, AllowUnknownCAFKey: *allowUnknown}
	invalid := 0
	for _, file := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, tooLarge, err := readBounded(file, *maxSize)
		if err != nil {
			return err
		}
		r := tooLarge
		if r == nil {
			r = dte.Verify(b, opts)
		}
		if !r.Valid() {
			invalid++
		}
		if *asJSON {
			out := struct {
				File  string   `json:"file"`
				Valid bool     `json:"valid"`
				Codes []string `json:"codes"` // the failures' codes, in report order
				*dte.Report
			}{file, r.Valid(), r.Codes(), r}
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				return err
			}
			continue
		}
		printReport(env.stdout, file, r)
	}
	if invalid > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d of %d file(s) did not verify", invalid, fs.NArg())}
	}
	return nil
}

// readBounded reads a file of at most max bytes. A larger file is not
// read: its report (too-large) is returned instead.
func readBounded(file string, max int64) ([]byte, *dte.Report, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() > max {
		return nil, &dte.Report{Read: dte.Check{Status: dte.StatusFailed, Code: dte.CodeTooLarge,
			Message: fmt.Sprintf("%s: %d bytes, the limit is %d (--max-size)", xmlsig.ErrTooLarge, st.Size(), max)}}, nil
	}
	// One buffer of the file's size, plus one byte to see it did not grow.
	b := make([]byte, st.Size()+1)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil, err
	}
	if int64(n) > max {
		return nil, &dte.Report{Read: dte.Check{Status: dte.StatusFailed, Code: dte.CodeTooLarge,
			Message: fmt.Sprintf("%s: more than %d bytes (--max-size)", xmlsig.ErrTooLarge, max)}}, nil
	}
	return b[:n], nil, nil
}

// printReport writes a report for people: one line per check. Its first
// line names any downgrade in force.
func printReport(w io.Writer, file string, r *dte.Report) {
	downgraded := ""
	if len(r.Downgrades) > 0 {
		downgraded = " — DOWNGRADED: " + strings.Join(r.Downgrades, ", ") + " (not every check is enforced)"
	}
	if !r.Read.OK() {
		fmt.Fprintf(w, "%s: cannot be verified%s\n", file, downgraded)
		line(w, "  ", "read", r.Read)
		fmt.Fprintf(w, "  result: INVALID\n\n")
		return
	}
	kind := r.Kind
	if r.Encoding != "" {
		kind += ", " + r.Encoding
	}
	fmt.Fprintf(w, "%s: %s, %d DTE(s)%s\n", file, kind, len(r.Documents), downgraded)
	line(w, "  ", "schema", r.Schema)
	line(w, "  ", "structure", r.Structure)
	if e := r.Envelope; e != nil {
		c := e.Caratula
		if c != nil {
			fmt.Fprintf(w, "  EnvioDTE %s  RutEmisor %s  RutEnvia %s  RutReceptor %s  FchResol %s  NroResol %s  TmstFirmaEnv %s\n",
				e.SetID, c.Issuer, c.Sender, c.Receiver, c.ResolutionDate, c.ResolutionNumber, c.SignedAt)
			var parts []string
			for _, st := range c.SubTotals {
				parts = append(parts, fmt.Sprintf("type %d: %d", st.Type, st.Count))
			}
			fmt.Fprintf(w, "  SubTotDTE %s\n", strings.Join(parts, ", "))
		}
		line(w, "  ", "signature", signatureCheck(e.Signature))
		line(w, "  ", "certificate", e.Signature.Certificate)
		line(w, "  ", "caratula", e.Cover)
	}
	for _, d := range r.Documents {
		doc := d.Document
		fmt.Fprintf(w, "  DTE %s  type %d folio %d  %s -> %s  issued %s  total %d\n",
			doc.ID, doc.Type, doc.Folio, doc.Issuer, doc.Receiver, doc.IssueDate, doc.Total)
		for _, ref := range doc.References {
			fmt.Fprintf(w, "    reference %d: type %s folio %s of %s", ref.Line, ref.Type, ref.Folio, ref.Date)
			if ref.Code != 0 {
				fmt.Fprintf(w, " code %d", ref.Code)
			}
			if ref.Reason != "" {
				fmt.Fprintf(w, " (%s)", ref.Reason)
			}
			fmt.Fprintln(w)
		}
		line(w, "    ", "signature", signatureCheck(d.Signature))
		line(w, "    ", "certificate", d.Signature.Certificate)
		line(w, "    ", "TED", d.TED)
		line(w, "    ", "CAF", d.CAF)
		line(w, "    ", "dates", d.Dates)
	}
	if r.Valid() && len(r.Downgrades) > 0 {
		fmt.Fprintf(w, "  result: valid only with %s\n\n", strings.Join(r.Downgrades, ", "))
	} else if r.Valid() {
		fmt.Fprintf(w, "  result: valid\n\n")
	} else {
		fmt.Fprintf(w, "  result: INVALID (%d failed check(s))\n\n", len(r.Failures()))
	}
}

// signatureCheck adds the signer to a signature's message.
func signatureCheck(s dte.SignatureCheck) dte.Check {
	c := s.Check
	if s.Signer != "" {
		c.Message += fmt.Sprintf("; signer %s", strings.Join(strings.Fields(s.Signer), " "))
		if s.SignerRUT != "" {
			c.Message += " (" + s.SignerRUT + ")"
		}
	}
	return c
}

func line(w io.Writer, indent, what string, c dte.Check) {
	status := "ok"
	switch c.Status {
	case dte.StatusFailed:
		status = "FAILED"
	case dte.StatusAllowed:
		status = "ALLOWED"
	case dte.StatusSkipped:
		status = "skipped"
	}
	msg := c.Message
	if c.Code != "" && c.Status != dte.StatusOK {
		msg = c.Code + ": " + msg
	}
	fmt.Fprintf(w, "%s%-12s %-8s %s\n", indent, what, status, msg)
}

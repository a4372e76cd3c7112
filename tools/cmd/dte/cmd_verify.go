package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dtecl/pipeline/shared/dte"
)

// runVerify is `dte verify`: any DTE or EnvioDTE → what verifies and what
// does not, the way the SII checks it. Exit status 0 when every file is
// valid, 1 otherwise.
func runVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "verify", "[flags] FILE.xml...")
	keysDir := fs.String("sii-keys", "", siiKeysHelp)
	asJSON := fs.Bool("json", false, "print the reports as JSON (one object per file)")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{code: 2, msg: "want at least one file"}
	}
	keys, err := loadSIIKeys(env, *keysDir)
	if err != nil {
		return err
	}
	invalid := 0
	for _, file := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		r := dte.Verify(b, dte.VerifyOptions{Keys: keys})
		if !r.Valid() {
			invalid++
		}
		if *asJSON {
			out := struct {
				File  string `json:"file"`
				Valid bool   `json:"valid"`
				*dte.Report
			}{file, r.Valid(), r}
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

// printReport writes a report for people: one line per check.
func printReport(w io.Writer, file string, r *dte.Report) {
	if !r.Read.OK() {
		fmt.Fprintf(w, "%s: cannot be verified\n", file)
		line(w, "  ", "read", r.Read)
		fmt.Fprintf(w, "  result: INVALID\n\n")
		return
	}
	fmt.Fprintf(w, "%s: %s, %s, %d DTE(s)\n", file, r.Kind, r.Encoding, len(r.Documents))
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
	}
	if r.Valid() {
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
	case dte.StatusSkipped:
		status = "skipped"
	}
	msg := c.Message
	if c.Code != "" && c.Status != dte.StatusOK {
		msg = c.Code + ": " + msg
	}
	fmt.Fprintf(w, "%s%-12s %-8s %s\n", indent, what, status, msg)
}

package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/dtecl/pipeline/shared/printout"
	"github.com/dtecl/pipeline/shared/request"
)

// runPrint is `dte print`: a signed DTE (ours, the SII's example, any
// issuer's; a DTE or an EnvioDTE) → its printed representation as PDF,
// with the timbre as a PDF417.
func runPrint(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "print", "[flags] DTE.xml")
	format := fs.String("format", "", "letter or ticket (80 mm); default: the DTE's TpoImpresion (T ticket, otherwise letter)")
	cedible := fs.Bool("cedible", false, "add the cedible copy with the acuse de recibo (facturas 33 and 34, guías 52 that are sales)")
	out := fs.String("out", "", "output PDF (- for standard output; default {DTE file without .xml}.pdf)")
	resDate := fs.String("resolution-date", "", "FchResol of the SII resolution printed under the timbre (a DTE does not carry it; an EnvioDTE's Carátula does)")
	resNumber := fs.Int("resolution-number", 0, "NroResol, with --resolution-date (0 in certification)")
	office := fs.String("office", "", "SII office printed under the header box, for a comuna the built-in table lacks (e.g. \"SANTIAGO ORIENTE\")")
	id := fs.String("id", "", "Documento ID of the DTE to print, for an EnvioDTE with several")
	keysDir := fs.String("sii-keys", "", siiKeysHelp)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "want one DTE file"}
	}
	f, err := printout.ParseFormat(*format)
	if err != nil {
		return exitError{code: 2, msg: "--format: use letter or ticket"}
	}
	keys, err := loadSIIKeys(env, *keysDir)
	if err != nil {
		return err
	}
	in := files[0]
	doc, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	o := printout.Options{Format: f, Cedible: *cedible, Office: *office, DocumentID: *id, SIIKeys: keys}
	if *resDate != "" {
		o.Resolution = &request.Resolution{Number: *resNumber, Date: *resDate}
	}
	pdf, err := printout.Render(doc, o)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	target := *out
	if target == "" {
		target = strings.TrimSuffix(in, ".xml") + ".pdf"
	}
	if target == "-" {
		_, err = env.stdout.Write(pdf)
		return err
	}
	if err := os.WriteFile(target, pdf, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: %d bytes\n", target, len(pdf))
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
)

// runEnvelope is `dte envelope`: signed DTEs → signed EnvioDTE, as the
// submit function builds it before the upload; with --for-receiver, one
// accepted DTE → the EnvioDTE for its receiver (the intercambio).
func runEnvelope(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "envelope", "--cert FILE --resolution-date YYYY-MM-DD [flags] DTE.xml...")
	cf := addCertFlags(fs)
	resDate := fs.String("resolution-date", "", "FchResol: date of the SII resolution that authorises the issuer (required)")
	resNumber := fs.Int("resolution-number", 0, "NroResol: its number (0 in certification)")
	receiver := fs.String("receiver", rut.SII.String(), "RutReceptor: the SII, or the client for an exchange envelope")
	forReceiver := fs.Bool("for-receiver", false, "one DTE, addressed to its own receiver (RutReceptor = RUTRecep): the XML for a customer that is an electronic issuer")
	setID := fs.String("set-id", "", "SetDTE ID (default: derived from the issuer, the time and the DTEs)")
	out := fs.String("out", "-", "output file (- for standard output)")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || cf.cert == "" || *resDate == "" {
		fs.Usage()
		return exitError{code: 2, msg: "want --cert, --resolution-date and at least one DTE file"}
	}
	if *forReceiver && fs.NArg() != 1 {
		return exitError{code: 2, msg: "--for-receiver takes one DTE"}
	}
	recv, err := rut.Parse(*receiver)
	if err != nil {
		return fmt.Errorf("--receiver: %w", err)
	}
	cert, err := cf.load(env)
	if err != nil {
		return err
	}
	var dtes [][]byte
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		dtes = append(dtes, b)
	}
	signer, err := dte.NewSigner(cert)
	if err != nil {
		return err
	}
	h := dte.Header{Receiver: recv, Resolution: request.Resolution{Number: *resNumber, Date: *resDate}, SetID: *setID}
	var e *dte.Envelope
	if *forReceiver {
		e, err = signer.ReceiverEnvelope(ctx, dtes[0], h.Resolution)
	} else {
		e, err = signer.Envelope(ctx, h, dtes...)
	}
	if err != nil {
		// Errors name DTEs by position: say which file each one is.
		for i, f := range fs.Args() {
			fmt.Fprintf(env.stderr, "DTE %d: %s\n", i+1, f)
		}
		return err
	}
	if *out == "-" {
		_, err = env.stdout.Write(e.XML)
		return err
	}
	if err := os.WriteFile(*out, e.XML, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: EnvioDTE %s with %d DTE(s) of %s, sent by %s to %s, signed %s\n",
		*out, e.SetID, len(e.Documents), e.Issuer, e.Sender, e.Receiver, dte.Timestamp(e.SignedAt))
	for _, st := range e.SubTotals {
		fmt.Fprintf(env.stdout, "  type %d: %d\n", st.Type, st.Count)
	}
	return nil
}

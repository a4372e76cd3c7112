package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/rut"
)

// siiKeysHelp describes the --sii-keys flag of every command that checks CAFs.
const siiKeysHelp = "a directory of extra SII CAF-signing keys named by IDK (100.cer, 300.cer); the SII's own IDK 100 and 300 keys are built in (env SII_CAF_KEYS)"

// expirySoon is how close to its expiry a CAF is flagged by caf list.
const expirySoon = 30 * 24 * time.Hour

// runCAF is `dte caf add FILE...` and `dte caf list [RUT]`: the CAF files
// in the archive (caf/{rut}/{type}/{desde}-{hasta}.xml), where the sign
// function takes them from.
func runCAF(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return runCAFAdd(ctx, env, args[1:])
		case "list":
			return runCAFList(ctx, env, args[1:])
		}
	}
	return subcommandUsage(env, args, "add or list",
		"usage: dte caf add [flags] FILE...   verify CAF files with the SII's keys and store them in the archive",
		"       dte caf list [flags] [RUT]    list the archived CAFs: issuer, type, folios, FA, expiry",
		"Run 'dte caf add -h' or 'dte caf list -h' for their flags.")
}

// subcommandUsage answers a command with subcommands that got none it
// knows: usage on stdout and exit 0 when help was asked for, else usage on
// stderr and exit 2.
func subcommandUsage(env *cliEnv, args []string, want string, usage ...string) error {
	w := env.stderr
	help := len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help")
	if help {
		w = env.stdout
	}
	for _, l := range usage {
		fmt.Fprintln(w, l)
	}
	switch {
	case help:
		return flag.ErrHelp
	case len(args) == 0:
		return exitError{code: 2, msg: "want a subcommand: " + want}
	}
	return exitError{code: 2, msg: fmt.Sprintf("unknown subcommand %q", args[0])}
}

// runCAFAdd verifies every file first and stores them only if all pass, so
// that a bad file in a batch leaves the archive as it was.
func runCAFAdd(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "caf add", "[flags] FILE...")
	keysDir := fs.String("sii-keys", "", siiKeysHelp)
	s3f := addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{code: 2, msg: "want at least one CAF file"}
	}
	keys, err := loadSIIKeys(env, *keysDir)
	if err != nil {
		return err
	}
	type checked struct {
		path string
		data []byte
		caf  *caf.CAF
	}
	var good []checked
	var rejected int
	for _, path := range fs.Args() {
		data, c, err := verifyCAFFile(path, keys)
		if err != nil {
			rejected++
			fmt.Fprintf(env.stderr, "rejected %s: %v\n", path, err)
			continue
		}
		if c.Expired(time.Now()) {
			exp, _ := c.ExpiresAt()
			fmt.Fprintf(env.stderr, "warning: %s: %s expired on %s; its folios can no longer be stamped\n", path, c, exp.Format(time.DateOnly))
		}
		good = append(good, checked{path, data, c})
	}
	if rejected > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d of %d CAF files rejected; nothing stored", rejected, fs.NArg())}
	}
	store, err := s3f.open(env)
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		return err
	}
	// Probed before the first write: create-only is only as good as the
	// server's If-None-Match.
	a := archive.New(store, archive.WithProbe())
	for _, g := range good {
		c := g.caf
		warnOverlaps(ctx, env, a, c)
		key, created, err := a.PutCAF(ctx, c.Issuer, c.Type, c.From, c.To, g.data)
		if err != nil {
			return fmt.Errorf("%s: %w", g.path, err)
		}
		verb := "added"
		if !created {
			verb = "already there"
		}
		fmt.Fprintf(env.stdout, "%-13s %s  %s\n", verb, key, c)
	}
	return nil
}

// verifyCAFFile reads a CAF file and accepts it only if the SII's signature
// (FRMA) verifies with the key for its IDK and it can stamp documents.
func verifyCAFFile(path string, keys *caf.Keys) ([]byte, *caf.CAF, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := caf.Parse(data)
	if err != nil {
		return nil, nil, err
	}
	if err := c.VerifySII(keys); err != nil {
		return nil, nil, fmt.Errorf("not a CAF the SII signed, or altered since: %w", err)
	}
	if !c.CanStamp() {
		return nil, nil, fmt.Errorf("%s: %w", c, caf.ErrNoPrivateKey)
	}
	return data, c, nil
}

// warnOverlaps tells the operator when a new CAF's folios overlap another
// stored range of the same issuer and type: the SII never issues that, so
// it is usually a certification CAF next to a production one.
func warnOverlaps(ctx context.Context, env *cliEnv, a *archive.Archive, c *caf.CAF) {
	prefix, err := archive.CAFPrefix(c.Issuer, c.Type)
	if err != nil {
		return
	}
	infos, err := a.Store().List(ctx, prefix)
	if err != nil {
		return // the store call that follows reports the problem
	}
	for _, info := range infos {
		ref, err := archive.ParseCAFObjectKey(info.Key)
		if err != nil || (ref.From == c.From && ref.To == c.To) {
			continue
		}
		if ref.From <= c.To && c.From <= ref.To {
			fmt.Fprintf(env.stderr, "warning: %s overlaps %s already in the archive\n", c, info.Key)
		}
	}
}

// runCAFList prints the archived CAFs, parsed, with their expiry.
func runCAFList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "caf list", "[flags] [RUT]")
	atFlag := fs.String("at", "", "judge expiry at this date, YYYY-MM-DD (default: now)")
	s3f := addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return exitError{code: 2, msg: "want at most one RUT"}
	}
	var issuer rut.RUT
	if fs.NArg() == 1 {
		r, err := rut.Parse(fs.Arg(0))
		if err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		issuer = r
	}
	at := time.Now()
	if *atFlag != "" {
		// A date means midnight in Chile, like the CAF's own FA.
		loc, err := time.LoadLocation("America/Santiago")
		if err != nil {
			loc = time.UTC
		}
		t, err := time.ParseInLocation(time.DateOnly, *atFlag, loc)
		if err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("--at %q: want YYYY-MM-DD", *atFlag)}
		}
		at = t
	}
	store, err := s3f.open(env)
	if err != nil {
		return err
	}
	files, err := archive.New(store).ListCAFs(ctx, issuer, 0)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		what := "no CAFs"
		if !issuer.IsZero() {
			what += " for " + issuer.String()
		}
		fmt.Fprintf(env.stderr, "%s in the archive (%s); add them with dte caf add FILE...\n", what, where(store))
		return nil
	}
	return printCAFs(env.stdout, files, at)
}

func printCAFs(w io.Writer, files []archive.CAFFile, at time.Time) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ISSUER\tTYPE\tFOLIOS\tFA\tIDK\tEXPIRES\tNOTE")
	for _, f := range files {
		c, err := caf.Parse(f.Data)
		if err != nil {
			fmt.Fprintf(tw, "%s\t%d\t%d-%d\t?\t?\t?\tunreadable: %s\n", f.Issuer, f.Type, f.From, f.To, oneLine(err.Error()))
			continue
		}
		var note []string
		if c.Issuer != f.Issuer || c.Type != f.Type || c.From != f.From || c.To != f.To {
			note = append(note, fmt.Sprintf("stored under %s but the file says %s", f.Key, c))
		}
		expires := "never"
		if exp, ok := c.ExpiresAt(); ok {
			expires = exp.Format(time.DateOnly)
			switch left := exp.Sub(at); {
			case left <= 0:
				note = append(note, "EXPIRED")
			case left <= expirySoon:
				note = append(note, fmt.Sprintf("expires in %d days", int(left.Hours()/24)))
			}
		}
		if c.IDK == 100 {
			note = append(note, "certification")
		}
		fmt.Fprintf(tw, "%s\t%d\t%d-%d\t%s\t%d\t%s\t%s\n", c.Issuer, c.Type, c.From, c.To, c.Authorized, c.IDK, expires, strings.Join(note, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

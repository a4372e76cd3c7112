package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/request"
)

// runSign is `dte sign`: DTE request JSON + certificate + CAF → signed
// standalone DTE, for people who want to do by hand what the sign
// function does.
func runSign(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sign", "--cert FILE [--key FILE] --caf FILE... [flags] REQUEST.json...")
	cf := addCertFlags(fs)
	var cafFiles stringList
	fs.Var(&cafFiles, "caf", "CAF file from the SII (repeat for several; the one whose range holds the folio is used)")
	keysDir := fs.String("sii-keys", "", siiKeysHelp)
	out := fs.String("out", "", "output file for one request (- for standard output); default {rut}-{type}-{folio}.xml in --out-dir")
	outDir := fs.String("out-dir", ".", "directory for the signed DTEs")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || len(cafFiles) == 0 || cf.cert == "" {
		fs.Usage()
		return exitError{code: 2, msg: "want --cert, at least one --caf and at least one request file"}
	}
	if *out != "" && fs.NArg() > 1 {
		return exitError{code: 2, msg: "--out takes one request; use --out-dir for several"}
	}
	cert, err := cf.load(env)
	if err != nil {
		return err
	}
	keys, err := loadSIIKeys(env, *keysDir)
	if err != nil {
		return err
	}
	var cafs []*caf.CAF
	for _, f := range cafFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		c, err := caf.Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := c.VerifySII(keys); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		cafs = append(cafs, c)
	}
	signer, err := dte.NewSigner(cert, dte.WithSIIKeys(keys))
	if err != nil {
		return err
	}
	v, err := request.NewValidator()
	if err != nil {
		return err
	}
	for _, file := range fs.Args() {
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		req, err := v.Parse(body)
		if err != nil {
			var ve *request.ValidationError
			if errors.As(err, &ve) {
				for _, viol := range ve.Violations {
					fmt.Fprintf(env.stderr, "%s: %s: %s\n", file, viol.Field, viol.Message)
				}
				return exitError{code: 1, msg: fmt.Sprintf("%s: invalid DTE request (%d problems)", file, len(ve.Violations))}
			}
			return fmt.Errorf("%s: %w", file, err)
		}
		signed, err := signer.Sign(ctx, req, cafs)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, w := range signed.Warnings {
			fmt.Fprintf(env.stderr, "%s: warning: %s\n", file, w.Message)
		}
		dst := *out
		if dst == "" {
			dst = filepath.Join(*outDir, signed.Key.String()+".xml")
		}
		if dst == "-" {
			if _, err := env.stdout.Write(signed.XML); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(dst, signed.XML, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s: %s (Documento %s, %s, signed %s by %s)\n", file, dst, signed.ID, signed.CAF, dte.Timestamp(signed.SignedAt), cert.RUT)
	}
	return nil
}

// certFlags are the flags that name the signing certificate.
type certFlags struct {
	cert, key, passwordEnv string
}

func addCertFlags(fs *flag.FlagSet) *certFlags {
	c := &certFlags{}
	fs.StringVar(&c.cert, "cert", "", "signing certificate: a PKCS#12 file (.p12/.pfx) or a PEM certificate")
	fs.StringVar(&c.key, "key", "", "PEM private key, when --cert is a PEM certificate without it")
	fs.StringVar(&c.passwordEnv, "password-env", "DTE_CERT_PASSWORD", "environment variable holding the PKCS#12 password")
	return c
}

// load reads the certificate; the password comes from the environment so
// that it does not show in the process list.
func (c *certFlags) load(env *cliEnv) (*certs.Certificate, error) {
	cert, err := certs.LoadFile(c.cert, c.key, env.getenv(c.passwordEnv))
	if errors.Is(err, certs.ErrWrongPassword) {
		return nil, fmt.Errorf("%w (the password is read from $%s)", err, c.passwordEnv)
	}
	return cert, err
}

// loadSIIKeys returns the SII's built-in CAF keys plus those in dir (the
// --sii-keys flag) or $SII_CAF_KEYS, when either is given.
func loadSIIKeys(env *cliEnv, dir string) (*caf.Keys, error) {
	if dir == "" {
		dir = env.getenv("SII_CAF_KEYS")
	}
	k, err := caf.SIIKeys(dir)
	if err != nil {
		return nil, fmt.Errorf("--sii-keys %s: %w", dir, err)
	}
	return k, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

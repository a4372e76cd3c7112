package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/tools/siisim"
)

// runSIISim runs the SII simulator on a port until interrupted.
func runSIISim(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "siisim", "[flags]")
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on")
	schema := fs.String("schema", "", "EnvioDTE_v10.xsd of another SII schema set (default: the set built in; uploads are validated in process: STATUS 7)")
	keys := fs.String("sii-keys", "", "a directory of extra SII CAF-signing keys named by IDK (100.cer); the SII's own IDK 100 and 300 keys are built in; `dte local` writes its test key to one")
	step := fs.Duration("step", 300*time.Millisecond, "time an upload spends in each state REC, SOK, CRT, FOK, PRD before the next; 0 settles at once")
	tokenTTL := fs.Duration("token-ttl", siisim.DefaultTokenTTL, "token lifetime")
	seedTTL := fs.Duration("seed-ttl", siisim.DefaultSeedTTL, "seed lifetime")
	acceptExpired := fs.Bool("accept-expired-certs", false, "let expired certificates authenticate (the SII's own test certificate expired in 2020)")
	maxSize := fs.Int64("max-file-size", siisim.DefaultMaxFileSize, "largest upload accepted (STATUS 2 above)")
	trackStart := fs.Int64("track-id-start", siisim.DefaultTrackID, "first TrackID")
	latency := fs.Duration("latency", 0, "fault: latency added to every SII call")
	fail5xx := fs.Int("fail-5xx", 0, "fault: the next N calls answer 500")
	html := fs.Int("html", 0, "fault: the next N calls answer 503 with an HTML page")
	hang := fs.Int("hang", 0, "fault: the next N calls never answer")
	ops := fs.String("fault-ops", "", "limit -fail-5xx, -html and -hang to these operations, comma-separated: getSeed,getToken,upload,getEstUp,getEstDte")
	rejectEnv := fs.String("reject-envelope", "", "fault: the next upload ends in this state: RSC, RFR or RCT")
	reject := dtekeyReasons{}
	object := dtekeyReasons{}
	fs.Var(reject, "reject", "fault: reject this document whenever uploaded, DTEKEY=reason (repeatable)")
	fs.Var(object, "object", "fault: accept this document with objections, DTEKEY=reason (repeatable)")
	verbose := fs.Bool("v", false, "log every call")
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q: siisim takes only flags", fs.Arg(0))}
	}
	siiKeys, err := caf.SIIKeys(*keys)
	if err != nil {
		return fmt.Errorf("-sii-keys: %w", err)
	}
	schemas, err := siisim.Schemas(*schema)
	if err != nil {
		return fmt.Errorf("-schema: %w", err)
	}
	defer schemas.Close()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	cfg := siisim.Config{
		Inspector:                 siisim.NewProjectInspector(siiKeys, schemas),
		Step:                      *step,
		TokenTTL:                  *tokenTTL,
		SeedTTL:                   *seedTTL,
		MaxFileSize:               *maxSize,
		AcceptExpiredCertificates: *acceptExpired,
		TrackIDStart:              *trackStart,
		Logger:                    logger,
		Faults: siisim.Faults{
			Latency:        siisim.Duration(*latency),
			Fail5xx:        *fail5xx,
			HTML:           *html,
			Hang:           *hang,
			RejectEnvelope: *rejectEnv,
			Reject:         reject,
			Object:         object,
		},
	}
	if *ops != "" {
		cfg.Faults.Ops = strings.Split(*ops, ",")
	}
	sim, err := siisim.New(cfg)
	if err != nil {
		return err
	}
	url, done, err := sim.Start(ctx, *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "SII simulator on %s (point clients at it as the SII host; admin: %s/admin/faults, %s/admin/received)\n", url, url, url)
	if err := <-done; err != nil {
		return fmt.Errorf("siisim: %w", err)
	}
	return nil
}

// dtekeyReasons collects repeatable DTEKEY=reason flags.
type dtekeyReasons map[string]string

func (d dtekeyReasons) String() string {
	var parts []string
	for k, v := range d {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (d dtekeyReasons) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("%q: want DTEKEY=reason, e.g. 76086428-5-33-12=monto no cuadra", s)
	}
	d[k] = v
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/tools/local"
	"github.com/dtecl/pipeline/tools/odoofake"
)

func runLocal(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "local", "[flags]")
	bin := fs.String("bin", "out", "directory of the function binaries (make build)")
	work := fs.String("workdir", ".run/local", "where test keys, CAFs and function logs go")
	samples := fs.String("samples", "samples/requests", "directory of the requests to send")
	schema := fs.String("schema", "", "EnvioDTE_v10.xsd of another SII schema set for the simulator (env SII_SCHEMA; default: the set built in)")
	amqpURL := fs.String("amqp-url", envOr(env, "AMQP_URL", defaultAMQPURL), "broker URL (env AMQP_URL)")
	step := fs.Duration("sii-step", 300*time.Millisecond, "time the SII simulator keeps an upload in each state")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up when the samples have not settled by then")
	keep := fs.Bool("keep", false, "keep the stack running after the samples settle (Ctrl-C stops it)")
	s3 := addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q: local takes only flags", fs.Arg(0))}
	}
	if v := env.getenv("SII_SCHEMA"); v != "" {
		*schema = v
	}
	reqs, err := loadSamples(*samples)
	if err != nil {
		return err
	}
	p := &progress{env: env, start: time.Now(), names: map[string]string{}, final: map[string]string{}}
	fmt.Fprintf(env.stdout, "starting: SII simulator, fake Odoo, enqueue, sign, submit, notify, dispatcher (logs in %s)\n", filepath.Join(*work, "logs"))
	stack, err := local.Start(ctx, local.Config{
		BinDir: *bin, WorkDir: *work, AMQPURL: *amqpURL, S3: s3.config(env), SchemaPath: *schema,
		Ports: local.DefaultPorts, SIIStep: *step, CAFs: cafRanges(reqs), OnCallback: p.callback,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(env.stdout, "stopping everything it started...")
		stack.Stop()
	}()
	fmt.Fprintf(env.stdout, "ready: enqueue %s · SII simulator %s · Odoo callback http://127.0.0.1:%d%s\n\n",
		stack.EnqueueURL, stack.SIIURL, local.DefaultPorts.Odoo, odoofake.Path)
	for _, r := range reqs {
		p.name(r.key, r.file)
		a, err := stack.Send(ctx, r.body)
		if err != nil {
			return fmt.Errorf("%s: %w", r.file, err)
		}
		p.line(r.key, fmt.Sprintf("enqueue answered 202 (event %s)", a.EventID))
	}
	if err := p.wait(ctx, len(reqs), *timeout); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	for _, r := range reqs {
		fmt.Fprintf(env.stdout, "%-26s %-9s signed XML: s3://%s/dte/%s/%d/%d.xml\n", r.key, p.finalOf(r.key), s3.config(env).Bucket, r.issuer, r.typ, r.folio)
	}
	fmt.Fprintf(env.stdout, "\n%s\n`dte status DTEKEY` shows a document's history; `dte archive url DTEKEY` gives a link to its signed XML.\n", whereArchived(s3.config(env)))
	if violations := stack.Odoo.Violations(); len(violations) > 0 {
		return fmt.Errorf("the callback contract was broken: %s", strings.Join(violations, "; "))
	}
	if *keep {
		fmt.Fprintln(env.stdout, "\nstill running (--keep): send more with `dte send FILE.json`; Ctrl-C stops everything")
		<-ctx.Done()
	}
	return nil
}

// localDataDir is where scripts/s3-server.sh's versitygw keeps objects as
// plain files, seen from the repository root (where make run runs).
const localDataDir = ".run/s3/data"

// whereArchived tells where the archive can be looked at: as plain files
// only when it is this checkout's versitygw (its endpoint, its data
// directory holding the bucket); anywhere else (MinIO, AWS, another
// checkout's server) with an S3 client.
func whereArchived(cfg archive.S3Config) string {
	dir := filepath.Join(localDataDir, cfg.Bucket)
	if cfg.Endpoint == defaultS3Endpoint {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return fmt.Sprintf("The archive is plain files under %s/ (versitygw of scripts/s3-server.sh).", dir)
		}
	}
	return fmt.Sprintf("The archive is bucket %s at %s: browse it with any S3 client, e.g. mc ls --recursive ALIAS/%s/ (README, \"Browsing the archive\").",
		cfg.Bucket, cfg.Endpoint, cfg.Bucket)
}

type sampleRequest struct {
	file   string
	body   []byte
	key    string
	issuer string
	typ    int
	folio  int64
}

// loadSamples reads the requests, with today's date (Chile) as issue date
// so the demo documents look current.
func loadSamples(dir string) ([]sampleRequest, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no sample requests in %s", dir)
	}
	sort.Strings(files) // 33 before its notes
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		loc = time.UTC
	}
	today := time.Now().In(loc).Format(time.DateOnly)
	var out []sampleRequest
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		doc, _ := m["document"].(map[string]any)
		issuer, _ := m["issuer"].(map[string]any)
		if doc == nil || issuer == nil {
			return nil, fmt.Errorf("%s: not a DTE request", f)
		}
		doc["issue_date"] = today
		delete(doc, "due_date")
		if refs, ok := m["references"].([]any); ok {
			for _, r := range refs {
				if ref, ok := r.(map[string]any); ok {
					ref["date"] = today
				}
			}
		}
		body, _ := json.Marshal(m)
		typ, _ := doc["type"].(float64)
		folio, _ := doc["folio"].(float64)
		rutText, _ := issuer["rut"].(string)
		k, err := dtekey.New(rutText, int(typ), int64(folio))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, sampleRequest{file: filepath.Base(f), body: body, key: k.String(), issuer: rutText, typ: int(typ), folio: int64(folio)})
	}
	return out, nil
}

// cafRanges authorises folios 1..100000 of each issuer and type the samples use.
func cafRanges(reqs []sampleRequest) []local.CAFRange {
	seen := map[string]bool{}
	var out []local.CAFRange
	for _, r := range reqs {
		id := fmt.Sprintf("%s/%d", r.issuer, r.typ)
		if !seen[id] {
			seen[id] = true
			out = append(out, local.CAFRange{Issuer: r.issuer, Type: r.typ, From: 1, To: 100000})
		}
	}
	return out
}

// progress prints each status change as Odoo receives it.
type progress struct {
	env   *cliEnv
	start time.Time
	mu    sync.Mutex
	names map[string]string
	final map[string]string
	done  chan struct{}
}

func (p *progress) name(key, file string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names[key] = file
}

func (p *progress) line(key, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.env.stdout, "%7.2fs  %-24s %-26s %s\n", time.Since(p.start).Seconds(), p.names[key], key, text)
}

func (p *progress) callback(c odoofake.Callback) {
	text := statusText(c)
	p.line(c.DTEKey, text)
	if archive.FinalStatus(c.Status) || c.Status == "error" {
		p.mu.Lock()
		p.final[c.DTEKey] = c.Status
		p.mu.Unlock()
	}
}

func statusText(c odoofake.Callback) string {
	switch c.Status {
	case "queued":
		return "En cola (queued)"
	case "signed":
		return "Firmado (signed)"
	case "sent":
		return "Enviado al SII (TrackID " + c.TrackID + ")"
	case "accepted":
		return "Aceptado por el SII (" + c.SIIState + ")"
	case "objected":
		return "Aceptado con reparos: " + c.Message
	case "rejected":
		return "Rechazado: " + c.SIIState + " " + c.Message
	case "retrying":
		return "Reintentando: " + c.Message
	default:
		return "Error: " + c.Message
	}
}

func (p *progress) finalOf(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.final[key]
}

// wait returns once n documents reached a final status (or an error).
func (p *progress) wait(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		settled := len(p.final)
		p.mu.Unlock()
		if settled >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-deadline:
			return fmt.Errorf("only %d of %d documents settled in %s; see the logs", settled, n, timeout)
		case <-tick.C:
		}
	}
}

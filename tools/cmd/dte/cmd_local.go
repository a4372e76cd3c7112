package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// localFlags are `dte local`'s settings: where the pieces listen, which Odoo
// the pipeline reports to and with which secrets, which issuers get test CAFs.
type localFlags struct {
	bin, work, samples, schema, amqpURL string
	odooURL, odooDB                     string
	enqueueSecret, callbackSecret       string
	issuers                             rutList
	ports                               local.Ports
	step, timeout                       time.Duration
	keep                                bool
	s3                                  *s3Flags
}

func parseLocalFlags(env *cliEnv, args []string) (*localFlags, error) {
	f := &localFlags{ports: local.DefaultPorts}
	fs := newFlags(env, "local", "[flags]")
	fs.StringVar(&f.bin, "bin", "out", "directory of the function binaries (make build)")
	fs.StringVar(&f.work, "workdir", ".run/local", "where test keys, CAFs and function logs go")
	fs.StringVar(&f.samples, "samples", "samples/requests", "directory of the requests to send (not with --odoo-url)")
	fs.StringVar(&f.schema, "schema", "", "EnvioDTE_v10.xsd of another SII schema set for the simulator (env SII_SCHEMA; default: the set built in)")
	fs.StringVar(&f.amqpURL, "amqp-url", "", "broker URL with its vhost (env AMQP_URL; default amqp://guest:guest@127.0.0.1:5672/"+local.DefaultVHost+
		"); the default vhost is created if missing and is the only one whose queues are emptied at start")
	fs.StringVar(&f.odooURL, "odoo-url", "", "a real Odoo's callback route, e.g. http://127.0.0.1:18069/api/dte/callback: notify reports there, "+
		"no fake Odoo and no sample is sent (the invoices come from that Odoo)")
	fs.StringVar(&f.odooDB, "odoo-db", "", "the Odoo database: with --odoo-url, its callback route is checked at start for it; "+
		"otherwise the fake Odoo's and the samples' (default "+local.OdooDatabase+")")
	fs.StringVar(&f.enqueueSecret, "enqueue-secret", "", "HMAC secret shared with Odoo's «Secreto de envío» (env ENQUEUE_SECRET; default: the local development value; prefer the environment: flags show in ps)")
	fs.StringVar(&f.callbackSecret, "callback-secret", "", "HMAC secret shared with Odoo's «Secreto de notificación» (env CALLBACK_SECRET; default: the local development value)")
	fs.Var(&f.issuers, "issuer", "issuer RUT to make test CAFs for (types 33, 34, 52, 56, 61; folios 1-100000), your Odoo company's RUT with --odoo-url (required there); repeat or separate with commas; the samples' issuers always get them")
	fs.IntVar(&f.ports.Enqueue, "enqueue-port", f.ports.Enqueue, "enqueue's port (what Odoo's «URL del servicio de envío» points at); 0 picks a free one")
	fs.IntVar(&f.ports.Sign, "sign-port", f.ports.Sign, "sign's port")
	fs.IntVar(&f.ports.Submit, "submit-port", f.ports.Submit, "submit's port")
	fs.IntVar(&f.ports.Notify, "notify-port", f.ports.Notify, "notify's port")
	fs.IntVar(&f.ports.SII, "sii-port", f.ports.SII, "the SII simulator's port")
	fs.IntVar(&f.ports.Odoo, "odoo-port", f.ports.Odoo, "the fake Odoo's port (not with --odoo-url)")
	fs.IntVar(&f.ports.Dashboard, "dashboard-port", f.ports.Dashboard, "the operations dashboard's port")
	fs.IntVar(&f.ports.Dispatcher, "dispatcher-port", f.ports.Dispatcher, "where the dispatcher serves its /metrics")
	fs.DurationVar(&f.step, "sii-step", 300*time.Millisecond, "time the SII simulator keeps an upload in each state")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "give up when the samples have not settled by then")
	fs.BoolVar(&f.keep, "keep", false, "keep the stack running after the samples settle (Ctrl-C stops it); always so with --odoo-url")
	f.s3 = addS3Flags(fs)
	if err := parseArgs(env, fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q: local takes only flags", fs.Arg(0))}
	}
	// The environment is read after parsing, so that -h shows no secret.
	if v := env.getenv("SII_SCHEMA"); v != "" && f.schema == "" {
		f.schema = v
	}
	f.amqpURL = firstNonEmpty(f.amqpURL, env.getenv("AMQP_URL"), "amqp://guest:guest@127.0.0.1:5672/"+local.DefaultVHost)
	f.enqueueSecret = firstNonEmpty(f.enqueueSecret, env.getenv("ENQUEUE_SECRET"), local.EnqueueSecret)
	f.callbackSecret = firstNonEmpty(f.callbackSecret, env.getenv("CALLBACK_SECRET"), local.CallbackSecret)
	return f, f.check()
}

// check reports every bad flag at once.
func (f *localFlags) check() error {
	var problems []string
	if f.odooURL != "" {
		u, err := url.Parse(f.odooURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("--odoo-url %q: want an http(s) URL such as http://127.0.0.1:18069/api/dte/callback", f.odooURL))
		} else if !strings.HasSuffix(u.Path, odoofake.Path) {
			problems = append(problems, fmt.Sprintf("--odoo-url %q: the addon's callback route ends in %s", f.odooURL, odoofake.Path))
		}
	}
	if f.odooDB != "" && (len(f.odooDB) > 63 || strings.ContainsAny(f.odooDB, " /\\\"'")) {
		problems = append(problems, fmt.Sprintf("--odoo-db %q: not a database name", f.odooDB))
	}
	for name, p := range map[string]int{"enqueue-port": f.ports.Enqueue, "sign-port": f.ports.Sign, "submit-port": f.ports.Submit,
		"notify-port": f.ports.Notify, "sii-port": f.ports.SII, "odoo-port": f.ports.Odoo,
		"dashboard-port": f.ports.Dashboard, "dispatcher-port": f.ports.Dispatcher} {
		if p < 0 || p > 65535 {
			problems = append(problems, fmt.Sprintf("--%s %d: a port is 0 (any free one) to 65535", name, p))
		}
	}
	if f.odooURL != "" && len(f.issuers) == 0 {
		problems = append(problems, "--issuer: with --odoo-url, give the RUT of your Odoo company (test CAFs are made for it)")
	}
	if _, err := local.VHostOf(f.amqpURL); err != nil {
		problems = append(problems, "--amqp-url: "+err.Error())
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func runLocal(ctx context.Context, env *cliEnv, args []string) error {
	f, err := parseLocalFlags(env, args)
	if err != nil {
		return err
	}
	tcfg, err := telemetryConfig(env)
	if err != nil {
		return err
	}
	var reqs []sampleRequest
	if f.odooURL == "" {
		if reqs, err = loadSamples(f.samples, f.odooDB); err != nil {
			return err
		}
	}
	purge, err := prepareVHost(ctx, env, f.amqpURL)
	if err != nil {
		return err
	}
	if f.odooURL != "" {
		if err := checkOdoo(ctx, env, f.odooURL, f.odooDB); err != nil {
			return err
		}
	}
	p := &progress{env: env, start: time.Now(), names: map[string]string{}, final: map[string]string{}}
	what := "SII simulator, fake Odoo, dashboard, enqueue, sign, submit, notify, dispatcher"
	if f.odooURL != "" {
		what = "SII simulator, dashboard, enqueue, sign, submit, notify (to your Odoo), dispatcher"
	}
	fmt.Fprintf(env.stdout, "starting: %s (logs in %s)\n", what, filepath.Join(f.work, "logs"))
	stack, err := local.Start(ctx, local.Config{
		BinDir: f.bin, WorkDir: f.work, AMQPURL: f.amqpURL, S3: f.s3.config(env), SchemaPath: f.schema,
		Ports: f.ports, SIIStep: f.step, CAFs: cafRanges(reqs, f.issuers), OnCallback: p.callback,
		OdooURL: f.odooURL, OdooDatabase: f.odooDB, EnqueueSecret: f.enqueueSecret, CallbackSecret: f.callbackSecret,
		PurgeQueues: purge, Dashboard: true, Telemetry: tcfg,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(env.stdout, "stopping everything it started...")
		stack.Stop()
	}()
	fmt.Fprintf(env.stdout, "ready: enqueue %s · SII simulator %s · Odoo callback %s\n",
		stack.EnqueueURL, stack.SIIURL, stack.CallbackURL)
	fmt.Fprintf(env.stdout, "dashboard: %s (operator token for replays: %s)\n", stack.DashboardURL, stack.DashboardToken)
	fmt.Fprintf(env.stdout, "metrics: %s\n", metricsLine(stack.MetricsURLs()))
	if f.odooURL != "" {
		return serveRealOdoo(ctx, env, f, stack)
	}
	fmt.Fprintln(env.stdout)
	for _, r := range reqs {
		p.name(r.key, r.file)
		a, err := stack.Send(ctx, r.body)
		if err != nil {
			return fmt.Errorf("%s: %w", r.file, err)
		}
		p.line(r.key, fmt.Sprintf("enqueue answered 202 (event %s)", a.EventID))
	}
	if err := p.wait(ctx, len(reqs), f.timeout); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout)
	bucket := f.s3.config(env).Bucket
	for _, r := range reqs {
		fmt.Fprintf(env.stdout, "%-26s %-9s signed XML: s3://%s/dte/%s/%d/%d.xml\n", r.key, p.finalOf(r.key), bucket, r.issuer, r.typ, r.folio)
	}
	fmt.Fprintf(env.stdout, "\n%s\n`dte status DTEKEY` shows a document's history; `dte archive url DTEKEY` gives a link to its signed XML.\n", whereArchived(f.s3.config(env)))
	if violations := stack.Odoo.Violations(); len(violations) > 0 {
		return fmt.Errorf("the callback contract was broken: %s", strings.Join(violations, "; "))
	}
	if f.keep {
		fmt.Fprintln(env.stdout, "\nstill running (--keep): send more with `dte send FILE.json`; Ctrl-C stops everything")
		<-ctx.Done()
	}
	return nil
}

// metricsLine lists the processes' /metrics in the pipeline's order.
func metricsLine(urls map[string]string) string {
	var parts []string
	for _, name := range append(append([]string(nil), local.Functions...), "dispatcher", local.DashboardName) {
		if u, ok := urls[name]; ok {
			parts = append(parts, name+" "+u)
		}
	}
	return strings.Join(parts, " · ")
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

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
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
// so the demo documents look current, and the Odoo database db when given.
func loadSamples(dir, db string) ([]sampleRequest, error) {
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
		if odoo, ok := m["odoo"].(map[string]any); ok && db != "" {
			odoo["database"] = db
		}
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

// cafRanges authorises folios 1..100000 of each issuer and type the samples
// use, and of every type the addon sends for each extra issuer.
func cafRanges(reqs []sampleRequest, issuers []string) []local.CAFRange {
	seen := map[string]bool{}
	var out []local.CAFRange
	add := func(issuer string, typ int) {
		id := fmt.Sprintf("%s/%d", issuer, typ)
		if !seen[id] {
			seen[id] = true
			out = append(out, local.CAFRange{Issuer: issuer, Type: typ, From: 1, To: 100000})
		}
	}
	for _, r := range reqs {
		add(r.issuer, r.typ)
	}
	for _, issuer := range issuers {
		for _, typ := range []int{33, 34, 52, 56, 61} {
			add(issuer, typ)
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

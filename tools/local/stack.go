// Package local runs the whole pipeline on one machine: the SII simulator,
// a fake Odoo that checks the callback contract (or a real Odoo, given its
// callback URL), the four function binaries and the dispatcher that plays
// the Knative RabbitMQ source, against the real RabbitMQ and S3 server.
// `dte local` (make run), the end-to-end tests and the pipeline benchmark
// all use it.
package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/localpki"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/serve"
	"github.com/dtecl/pipeline/shared/telemetry"
	"github.com/dtecl/pipeline/tools/odoofake"
	"github.com/dtecl/pipeline/tools/siisim"
)

// Secrets the local stack uses between its parts: the functions' own
// development values (they run with DTE_DEV_MODE=true).
var (
	EnqueueSecret  = config.DevValueOf(config.Enqueue{}, "ENQUEUE_SECRET")
	CallbackSecret = config.DevValueOf(config.Notify{}, "CALLBACK_SECRET")
)

const (
	OdooDatabase = "odoo"
	certPassword = "local-test-password"
)

// Function names, which are also the binaries' names.
var Functions = []string{"enqueue", "sign", "submit", "notify"}

// Ports of the stack's servers; zero picks a free port. Dispatcher serves
// the dispatcher's /metrics and health paths.
type Ports struct {
	Enqueue, Sign, Submit, Notify, SII, Odoo, Dashboard, Dispatcher int
}

// DefaultPorts are those of `make run`: enqueue on 8080, where `dte send`
// posts by default. The fake Odoo keeps off 8069, Odoo's own port, so that a
// real Odoo can run beside the stack.
var DefaultPorts = Ports{Enqueue: 8080, Sign: 8081, Submit: 8082, Notify: 8083, SII: 8090, Odoo: 8091, Dashboard: 8070, Dispatcher: 8084}

// CAFRange is a folio range the stack authorises for an issuer and type.
type CAFRange struct {
	Issuer   string
	Type     int
	From, To int64
}

// Config configures a stack.
type Config struct {
	BinDir     string           // the function binaries
	WorkDir    string           // keys, CAFs and logs go here
	AMQPURL    string           // the broker (a vhost of its own is best)
	S3         archive.S3Config // the archive
	SchemaPath string           // EnvioDTE_v10.xsd for the simulator (default: the built-in set)
	Ports      Ports
	CAFs       []CAFRange
	// SIIStep is how long the simulator keeps an upload in each state
	// (0 settles at once).
	SIIStep time.Duration
	// Parallelism of the dispatcher per function queue (default 4), and of
	// notify's queue (default 4, as openfaas/connector.yaml: that many
	// documents at once, each document's statuses reaching Odoo one at a
	// time in the order they happened; 1 is how kn/ deploys it).
	Parallelism       int
	NotifyParallelism int
	// FunctionEnv adds environment variables per function (fault tests).
	FunctionEnv map[string][]string
	// Replicas runs sign or submit as that many processes (default 1),
	// each fed by its own consumers of the same queue: horizontal scale on
	// one machine. The extra ones are named "sign-2", "submit-3", ...
	Replicas map[string]int
	// OdooURL is a real Odoo's callback route (…/api/dte/callback). Empty:
	// the stack runs its fake Odoo (Ports.Odoo) and notify calls that.
	OdooURL string
	// OdooDatabase is the fake Odoo's database (default OdooDatabase).
	OdooDatabase string
	// EnqueueSecret and CallbackSecret are the HMAC keys shared with Odoo
	// (defaults: the local development values).
	EnqueueSecret, CallbackSecret string
	// PurgeQueues empties the pipeline's queues after declaring them: for a
	// vhost the stack owns, where they hold only what an interrupted earlier
	// run left. Never set it for a vhost shared with anything else.
	PurgeQueues bool
	// DispatcherProcess runs the dispatcher as its own process (`dte
	// dispatch`, from BinDir), which Kill and Restart can then crash and
	// bring back as "dispatcher"; by default it runs inside this process.
	DispatcherProcess bool
	// OnCallback is told each status change the fake Odoo applies.
	OnCallback func(odoofake.Callback)
	// Logger receives the dispatcher's and simulator's lines.
	Logger *slog.Logger
	// Telemetry configures the in-process dispatcher's traces (the
	// functions, and the dispatcher run as a process, read the same OTEL_*
	// variables from the environment they inherit).
	Telemetry config.Telemetry
	// StartUnready counts a function as started once it is alive
	// (/_/health), ready or not: for tests that start sign and submit while
	// a server they need is down, as a platform starts a pod that is not
	// ready yet (the dispatcher, like the OpenFaaS connector's queue, still
	// delivers to it). Otherwise Start waits until each is ready.
	StartUnready bool
	// Dashboard also runs the operations dashboard (binary "dashboard" in
	// BinDir) on its own queue, with a fresh database in WorkDir.
	Dashboard bool
	// DashboardToken is its operator token (default: a random one).
	DashboardToken string
}

// Stack is a running pipeline.
type Stack struct {
	cfg         Config
	Odoo        *odoofake.Server // nil when Config.OdooURL names a real Odoo
	SII         *siisim.Server
	Archive     *archive.Archive
	Store       archive.Store
	EnqueueURL  string
	SIIURL      string // the simulator's base URL
	CallbackURL string // where notify posts: the real Odoo's or the fake Odoo's route
	// DashboardURL and DashboardToken reach the dashboard (Config.Dashboard).
	DashboardURL, DashboardToken string
	// DispatcherURL is the base URL of the dispatcher's /metrics.
	DispatcherURL string
	// Dispatcher is the in-process dispatcher's telemetry (nil when it runs
	// as a process: Config.DispatcherProcess).
	Dispatcher *telemetry.Telemetry
	procs      map[string]*process

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func()
}

// Start brings the stack up; Stop takes it down.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 4
	}
	if cfg.OdooDatabase == "" {
		cfg.OdooDatabase = OdooDatabase
	}
	if cfg.EnqueueSecret == "" {
		cfg.EnqueueSecret = EnqueueSecret
	}
	if cfg.CallbackSecret == "" {
		cfg.CallbackSecret = CallbackSecret
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Stack{cfg: cfg, procs: map[string]*process{}, cancel: cancel}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	for _, d := range []string{cfg.WorkDir, filepath.Join(cfg.WorkDir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	pki, files, err := writePKI(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.startArchive(ctx, pki, files); err != nil {
		return nil, err
	}
	if err := declareTopology(cfg.AMQPURL, cfg.PurgeQueues); err != nil {
		return nil, err
	}
	if err := s.startSII(runCtx, pki.Keys()); err != nil {
		return nil, err
	}
	if err := s.startOdoo(); err != nil {
		return nil, err
	}
	if cfg.Dashboard {
		// Before the functions, so that it sees every event from the first.
		if err := s.startDashboard(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.startFunctions(ctx, files); err != nil {
		return nil, err
	}
	if cfg.DispatcherProcess {
		if err := s.startDispatcherProcess(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.startDispatcher(runCtx); err != nil {
		return nil, err
	}
	return s, nil
}

func writePKI(cfg Config) (*localpki.PKI, *localpki.Files, error) {
	pki, err := localpki.New()
	if err != nil {
		return nil, nil, fmt.Errorf("make test keys: %w", err)
	}
	var specs []localpki.CAFSpec
	for _, r := range cfg.CAFs {
		issuer, err := rut.Parse(r.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("CAF issuer: %w", err)
		}
		// Authorised yesterday: a document issued today (Chile) is never
		// dated before its CAF's FA, whatever the machine's time zone.
		specs = append(specs, localpki.CAFSpec{Issuer: issuer, Name: "EMPRESA DE PRUEBA LOCAL", Type: r.Type, From: r.From, To: r.To,
			Authorized: time.Now().AddDate(0, 0, -1)})
	}
	files, err := pki.WriteFiles(filepath.Join(cfg.WorkDir, "pki"), certPassword, specs...)
	if err != nil {
		return nil, nil, fmt.Errorf("write test keys: %w", err)
	}
	return pki, files, nil
}

// startArchive connects to S3, clears what earlier local runs left for the
// stack's issuers (the keys are new each run) and stores the CAFs, checked
// against the test SII key the way `dte caf add` checks real ones.
func (s *Stack) startArchive(ctx context.Context, pki *localpki.PKI, files *localpki.Files) error {
	store, err := archive.NewS3(s.cfg.S3)
	if err != nil {
		return err
	}
	if err := store.EnsureBucket(ctx); err != nil {
		return fmt.Errorf("S3 at %s: %w (is it running? scripts/s3-server.sh start)", s.cfg.S3.Endpoint, err)
	}
	s.Store = store
	s.Archive = archive.New(store, archive.WithLogger(s.cfg.Logger))
	issuers := map[string]bool{}
	for _, r := range s.cfg.CAFs {
		issuers[r.Issuer] = true
	}
	for issuer := range issuers {
		for _, prefix := range archive.IssuerPrefixes {
			if err := deletePrefix(ctx, store, prefix+issuer+"/"); err != nil {
				return err
			}
		}
	}
	for _, path := range files.CAFs {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		c, err := caf.Parse(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := c.VerifySII(pki.Keys()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, _, err := s.Archive.PutCAF(ctx, c.Issuer, c.Type, c.From, c.To, raw); err != nil {
			return err
		}
	}
	return nil
}

func deletePrefix(ctx context.Context, store archive.Store, prefix string) error {
	objs, err := store.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("clear %s: %w", prefix, err)
	}
	for _, o := range objs {
		if err := store.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("clear %s: %w", o.Key, err)
		}
	}
	return nil
}

func declareTopology(url string, purge bool) error {
	err := bus.WithChannel(url, 5*time.Second, func(ch *amqp.Channel) error {
		t := bus.Declaration()
		if err := t.Declare(ch); err != nil {
			return err
		}
		if !purge {
			return nil
		}
		// A fresh demo in the stack's own vhost: drop what an interrupted
		// earlier run left queued.
		for _, q := range t.Queues {
			if _, err := ch.QueuePurge(q.Name, false); err != nil {
				return fmt.Errorf("purge %s: %w", q.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("RabbitMQ at %s: %w (start it with `rabbitmq-server -detached`)", url, err)
	}
	return nil
}

func (s *Stack) startSII(ctx context.Context, keys *caf.Keys) error {
	schemas, err := siisim.Schemas(s.cfg.SchemaPath)
	if err != nil {
		return fmt.Errorf("SII simulator schemas: %w", err)
	}
	sim, err := siisim.New(siisim.Config{
		Inspector: siisim.NewProjectInspector(keys, schemas),
		Step:      s.cfg.SIIStep,
		Logger:    s.cfg.Logger,
	})
	if err != nil {
		return err
	}
	base, errc, err := sim.Start(ctx, "127.0.0.1:"+strconv.Itoa(s.cfg.Ports.SII))
	if err != nil {
		return fmt.Errorf("SII simulator: %w", err)
	}
	s.SII, s.SIIURL = sim, base
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := <-errc; err != nil {
			s.cfg.Logger.Error("SII simulator stopped", "error", err)
		}
	}()
	return nil
}

func (s *Stack) startOdoo() error {
	if s.cfg.OdooURL != "" {
		s.CallbackURL = s.cfg.OdooURL
		return nil
	}
	s.Odoo = odoofake.New([]byte(s.cfg.CallbackSecret), s.cfg.OdooDatabase, s.cfg.OnCallback)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.cfg.Ports.Odoo))
	if err != nil {
		return fmt.Errorf("fake Odoo: %w", err)
	}
	srv := &http.Server{Handler: s.Odoo, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = srv.Serve(ln) }()
	s.closers = append(s.closers, func() { _ = srv.Close() })
	s.cfg.Ports.Odoo = portOf(ln.Addr().String())
	s.CallbackURL = "http://127.0.0.1:" + strconv.Itoa(s.cfg.Ports.Odoo) + odoofake.Path
	return nil
}

func (s *Stack) startFunctions(ctx context.Context, files *localpki.Files) error {
	// The development switch (config.DevModeVar) lets the secrets default;
	// they are given anyway, so that none is taken from the environment.
	common := []string{"AMQP_URL=" + s.cfg.AMQPURL, "LOG_LEVEL=info", "SHUTDOWN_TIMEOUT=10s", config.DevModeVar + "=true"}
	s3env := []string{
		"S3_ENDPOINT=" + s.cfg.S3.Endpoint, "S3_BUCKET=" + s.cfg.S3.Bucket, "S3_REGION=" + s.cfg.S3.Region,
		"S3_ACCESS_KEY=" + s.cfg.S3.AccessKey, "S3_SECRET_KEY=" + s.cfg.S3.SecretKey,
	}
	cert := []string{"CERT_FILE=" + files.SignerP12, "CERT_PASSWORD=" + files.Password}
	// The slow retry tier in seconds, not minutes (the fast tier keeps its
	// 1 s and 5 s), so that an outage on one machine heals in a demo's or a
	// test's time; EVENT_TIMEOUT is shortened so that LOST_UPLOAD_GRACE,
	// which must exceed it, stays short too.
	retry := []string{"SLOW_RETRY_DELAYS=5s,10s,15s", "RETRY_BUDGET=10m"}
	env := map[string][]string{
		"enqueue": append([]string{"ENQUEUE_SECRET=" + s.cfg.EnqueueSecret}, s3env...),
		"sign":    append(append(append([]string{"SII_CAF_KEYS=" + files.SIIKeysDir}, retry...), s3env...), cert...),
		"submit": append(append(append([]string{
			"SII_ENV=" + s.SIIURL,
			"CHECK_DELAYS=1s,1s,2s,5s", "NOTE_WAIT=1s", "NOTE_REFERENCE_GRACE=1m",
			"EVENT_TIMEOUT=20s", "LOST_UPLOAD_GRACE=25s",
		}, retry...), s3env...), cert...),
		"notify": append(append([]string{"ODOO_CALLBACK_URL=" + s.CallbackURL, "CALLBACK_SECRET=" + s.cfg.CallbackSecret, "SII_CAF_KEYS=" + files.SIIKeysDir}, s3env...), cert...),
	}
	for _, name := range Functions {
		for r := 1; r <= max(s.cfg.Replicas[name], 1); r++ {
			if err := s.startFunction(ctx, name, r, env[name], common); err != nil {
				return err
			}
		}
	}
	s.EnqueueURL = s.procs["enqueue"].url + "/"
	return nil
}

// startFunction starts replica r (1: the first, named as the function) of
// a function.
func (s *Stack) startFunction(ctx context.Context, name string, r int, env, common []string) error {
	bin, err := binPath(s.cfg.BinDir, name)
	if err != nil {
		return err
	}
	ports := map[string]*int{"enqueue": &s.cfg.Ports.Enqueue, "sign": &s.cfg.Ports.Sign, "submit": &s.cfg.Ports.Submit, "notify": &s.cfg.Ports.Notify}
	procName, port := replicaName(name, r), 0
	if r == 1 {
		port = *ports[name]
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
		if r == 1 {
			*ports[name] = port
		}
	}
	p := &process{
		name: procName, bin: bin, url: "http://127.0.0.1:" + strconv.Itoa(port),
		log:       filepath.Join(s.cfg.WorkDir, "logs", procName+".log"),
		aliveOnly: s.cfg.StartUnready,
		// Each process has its own lock file: one that stops must not
		// remove another's.
		env: append(append(append([]string{"PORT=" + strconv.Itoa(port), "LOCK_FILE=" + filepath.Join(s.cfg.WorkDir, procName+".lock")},
			common...), env...), s.cfg.FunctionEnv[name]...),
	}
	s.procs[procName] = p
	return p.start(ctx)
}

// replicaName names replica r of a function: the function's own name for
// the first, "sign-2" for the second.
func replicaName(name string, r int) string {
	if r == 1 {
		return name
	}
	return name + "-" + strconv.Itoa(r)
}

// routes are the dispatcher's: each function queue to its function, one
// route (its own consumers) per replica.
func (s *Stack) routes() []dispatch.Route {
	par := s.cfg.Parallelism
	var out []dispatch.Route
	for _, f := range []struct{ queue, name string }{{bus.QueueSign, "sign"}, {bus.QueueSubmit, "submit"}} {
		for r := 1; r <= max(s.cfg.Replicas[f.name], 1); r++ {
			out = append(out, dispatch.Route{Queue: f.queue, URL: s.procs[replicaName(f.name, r)].url + "/", Parallelism: par})
		}
	}
	return append(out,
		dispatch.Route{Queue: bus.QueueNotify, URL: s.procs["notify"].url + "/", Parallelism: cmp.Or(s.cfg.NotifyParallelism, 4), Order: dispatch.OrderDocument},
		dispatch.Route{Queue: bus.QueueDead, URL: s.procs["notify"].url + "/dead", Parallelism: 1},
	)
}

// PIDs are the process ids of the stack's processes (functions, their
// replicas, the dashboard and the dispatcher when they run as processes),
// by name; a stopped one is left out.
func (s *Stack) PIDs() map[string]int {
	out := map[string]int{}
	for name, p := range s.procs {
		p.mu.Lock()
		if p.cmd != nil && p.cmd.Process != nil {
			out[name] = p.cmd.Process.Pid
		}
		p.mu.Unlock()
	}
	return out
}

// startDispatcher runs the dispatcher in this process, with its metrics and
// health paths on Ports.Dispatcher.
func (s *Stack) startDispatcher(ctx context.Context) error {
	tel, err := telemetry.New(ctx, "dispatcher", s.cfg.Telemetry)
	if err != nil {
		return err
	}
	s.Dispatcher = tel
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.cfg.Ports.Dispatcher))
	if err != nil {
		return fmt.Errorf("dispatcher metrics: %w", err)
	}
	s.cfg.Ports.Dispatcher = portOf(ln.Addr().String())
	s.DispatcherURL = "http://" + ln.Addr().String()
	d, err := dispatch.New(dispatch.Config{
		URL: s.cfg.AMQPURL, Routes: s.routes(),
		Logger: s.cfg.Logger, Observer: tel.Dispatches(), PublishObserver: tel.Publishes(),
	})
	if err != nil {
		ln.Close()
		return err
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = d.Run(ctx) }()
	go func() {
		defer s.wg.Done()
		err := serve.Run(ctx, serve.Options{Listener: ln, Handler: http.NotFoundHandler(), Metrics: tel.Handler(), ShutdownTimeout: time.Second})
		if err != nil {
			s.cfg.Logger.Error("dispatcher metrics server stopped", "error", err)
		}
		tel.Close(s.cfg.Logger)
	}()
	return nil
}

// MetricsURLs are the /metrics of every process of the stack, by name.
func (s *Stack) MetricsURLs() map[string]string {
	out := map[string]string{"dispatcher": s.DispatcherURL + telemetry.PathMetrics}
	for name, p := range s.procs {
		out[name] = p.url + telemetry.PathMetrics
	}
	return out
}

// startDispatcherProcess runs `dte dispatch` with the stack's routes, the
// way the OpenFaaS connector runs (openfaas/connector.yaml).
func (s *Stack) startDispatcherProcess(ctx context.Context) error {
	bin, err := binPath(s.cfg.BinDir, "dte")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("attempts: 3\nbackoff: [1s, 5s]\nroutes:\n")
	for _, r := range s.routes() {
		fmt.Fprintf(&b, "  - queue: %s\n    url: %s\n    parallelism: %d\n", r.Queue, r.URL, r.Parallelism)
		if r.Order != dispatch.OrderNone {
			fmt.Fprintf(&b, "    order: %s\n", r.Order)
		}
	}
	file := filepath.Join(s.cfg.WorkDir, "dispatch.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		return err
	}
	port := s.cfg.Ports.Dispatcher
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
		s.cfg.Ports.Dispatcher = port
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// Its metrics and health paths on Ports.Dispatcher, its traces as the
	// OTEL_* variables it inherits say.
	p := &process{
		name: "dispatcher", bin: bin, url: "http://" + addr,
		args: []string{"dispatch", "--config", file, "--amqp-url", s.cfg.AMQPURL, "--metrics-addr", addr},
		log:  filepath.Join(s.cfg.WorkDir, "logs", "dispatcher.log"),
	}
	s.DispatcherURL = p.url
	p.ready = func(ctx context.Context, done <-chan struct{}) error {
		return p.waitLogLine(ctx, done, `"msg":"dispatcher consuming"`)
	}
	s.procs["dispatcher"] = p
	return p.start(ctx)
}

// Kill crashes a function (SIGKILL), as a node failure would; "dispatcher"
// is the dispatcher when it runs as a process (DispatcherProcess).
func (s *Stack) Kill(name string) error { return s.proc(name).stop(true) }

// Restart starts a stopped or killed function again.
func (s *Stack) Restart(ctx context.Context, name string) error { return s.proc(name).start(ctx) }

func (s *Stack) proc(name string) *process {
	p, ok := s.procs[name]
	if !ok {
		panic("local: no function " + name)
	}
	return p
}

// LogFile is where a function's output goes.
func (s *Stack) LogFile(name string) string { return s.proc(name).log }

// Stop stops the dispatcher, then the functions (gracefully), then the
// simulator and the fake Odoo.
func (s *Stack) Stop() {
	s.cancel()
	var errs []error
	if p, ok := s.procs["dispatcher"]; ok {
		errs = append(errs, p.stop(false))
	}
	for i := len(Functions) - 1; i >= 0; i-- {
		for r := max(s.cfg.Replicas[Functions[i]], 1); r >= 1; r-- {
			if p, ok := s.procs[replicaName(Functions[i], r)]; ok {
				errs = append(errs, p.stop(false))
			}
		}
	}
	if p, ok := s.procs[DashboardName]; ok {
		errs = append(errs, p.stop(false))
	}
	for _, c := range s.closers {
		c()
	}
	if s.SII != nil {
		s.SII.Close()
	}
	s.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.cfg.Logger.Warn("stop", "error", err)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

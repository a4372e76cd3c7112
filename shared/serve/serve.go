// Package serve runs a function's HTTP server the same way on every
// platform: the function's handler, the health paths that Knative,
// OpenFaaS and the local runner probe, and a graceful shutdown that lets
// in-flight requests finish.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/telemetry"
)

// Options configures Run.
type Options struct {
	// Addr to listen on, e.g. ":8080". Ignored when Listener is set.
	Addr string
	// Listener to serve on instead of Addr (tests pass one on port 0).
	Listener net.Listener
	// Handler serves everything but the health paths.
	Handler http.Handler
	// Ready reports whether the function can do its work now (e.g. the
	// broker is reachable; see ReadyChecks). nil means always ready.
	Ready func(ctx context.Context) error
	// Metrics, when set, is served on /metrics (telemetry.Handler).
	Metrics http.Handler
	// ShutdownTimeout bounds the wait for in-flight requests (default 25 s).
	ShutdownTimeout time.Duration
	// RequestTimeout bounds reading a request and writing its answer
	// (default 2 min: an SII call with retries fits).
	RequestTimeout time.Duration
	// LockFile is created once serving starts and removed at shutdown:
	// OpenFaaS's exec probe checks it. Empty disables it. Two processes
	// must not share one (the first to stop would remove the other's).
	LockFile string
	// Logger receives start and stop lines.
	Logger *slog.Logger
	// OnListen is called with the bound address once the server listens.
	OnListen func(addr net.Addr)
}

// Health paths answered by every function.
const (
	PathHealthz = "/healthz"
	PathHealth  = "/_/health"
	PathReady   = "/_/ready"
)

// Run serves until ctx is done, then shuts down gracefully. It returns nil
// after a clean shutdown.
func Run(ctx context.Context, o Options) error {
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 25 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ln := o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", o.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", o.Addr, err)
		}
	}
	srv := &http.Server{
		Handler:           mux(o.Handler, o.Ready, o.Metrics),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       o.RequestTimeout,
		WriteTimeout:      o.RequestTimeout,
		IdleTimeout:       90 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if o.LockFile != "" {
		if err := os.WriteFile(o.LockFile, nil, 0o644); err != nil {
			o.Logger.Warn("cannot create the health lock file", "path", o.LockFile, "error", err)
		}
		defer os.Remove(o.LockFile)
	}
	o.Logger.Info("listening", "addr", ln.Addr().String())
	if o.OnListen != nil {
		o.OnListen(ln.Addr())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	o.Logger.Info("shutting down; finishing in-flight requests", "timeout", o.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// NewLogger is the JSON logger every function uses: one object per line on
// stderr, tagged with the function's name, and with the trace and span ids
// of a record logged with a traced context.
func NewLogger(function, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))).With("function", function)
}

// WarnDevValues logs, once at start, each variable that took its
// development value (config.Load's dev): loud, because a deployment must
// never run so.
func WarnDevValues(log *slog.Logger, names []string) {
	for _, n := range names {
		log.Warn(n+" is not set: "+config.DevModeVar+"=true gives it the published local development value; never do this in a deployment", "variable", n)
	}
}

// Mux wraps h with the health paths, which answer GET and HEAD only (405
// otherwise). A path that is not in its clean form ("/../x", "//x") is
// answered 404 here: http.ServeMux would redirect it (307), and no client
// of a function has a reason to send one.
func Mux(h http.Handler, ready func(context.Context) error) http.Handler { return mux(h, ready, nil) }

// mux is Mux with, when metrics is not nil, /metrics (GET and HEAD too).
func mux(h http.Handler, ready func(context.Context) error, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle(telemetry.PathMetrics, getOnly(metrics.ServeHTTP))
	}
	ok := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}
	mux.HandleFunc(PathHealthz, getOnly(ok))
	mux.HandleFunc(PathHealth, getOnly(ok))
	mux.HandleFunc(PathReady, getOnly(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		ok(w, r)
	}))
	mux.Handle("/", h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || p[0] != '/' || cleanPath(p) != p {
			http.NotFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// getOnly answers 405 to anything but GET and HEAD.
func getOnly(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "health checks take GET or HEAD", http.StatusMethodNotAllowed)
			return
		}
		f(w, r)
	}
}

// cleanPath is path.Clean keeping a trailing slash, as http.ServeMux
// cleans paths before it redirects.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// Main runs a function's run until SIGINT or SIGTERM, then exits: 0 after a
// clean shutdown, 1 with the error on stderr otherwise.
func Main(function string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, function+":", err)
		os.Exit(1)
	}
}

// FunctionOptions are the Options every function binary serves with: its
// port, the lock file OpenFaaS probes, a graceful shutdown (config.Base).
func FunctionOptions(b config.Base, h http.Handler, ready func(context.Context) error, log *slog.Logger) Options {
	return Options{
		Addr: ":" + strconv.Itoa(b.Port), Handler: h, Ready: ready, ShutdownTimeout: b.ShutdownTimeout,
		LockFile: b.LockFile, Logger: log,
	}
}

package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
)

// Feed modes: where the events come from.
const (
	FeedQueue = "queue" // the dashboard's own queue (local, OpenFaaS, Knative with sources)
	FeedHTTP  = "http"  // CloudEvents POSTed by Knative Triggers (the broker variant)
)

// ServiceConfig is everything `dte dashboard` and functions/dashboard
// configure.
type ServiceConfig struct {
	DBPath  string           // the SQLite database (created if missing)
	AMQPURL string           // the broker: the feed, queue depths, replays
	Feed    string           // FeedQueue or FeedHTTP
	Queue   string           // the feed's queue (default bus.QueueDashboard)
	Declare bool             // declare the topology when the feed connects
	S3      archive.S3Config // the archive
	// Tokens: see auth. Empty OperatorToken: read-only for everyone.
	OperatorToken, ViewToken string
	Warnings                 CAFWarnings
	StuckAfter               time.Duration
	StatsInterval            time.Duration // queue depths (default 2 s)
	CAFInterval              time.Duration // CAF list (default 1 min)
	Logger                   *slog.Logger
	// WrapStore, when set, wraps the archive's S3 store (functions/dashboard:
	// the metrics of each call).
	WrapStore func(archive.Store) archive.Store
}

// Service is a running dashboard: serve Handler, ask Ready, Close at the end.
type Service struct {
	Server *Server
	Store  *Store
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start opens the projection, rebuilds it from the archive when it is
// empty, and starts the feed and the watchers; they run until Close.
func Start(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Feed != FeedQueue && cfg.Feed != FeedHTTP {
		return nil, fmt.Errorf("dashboard feed %q: want %s or %s", cfg.Feed, FeedQueue, FeedHTTP)
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = 2 * time.Second
	}
	if cfg.CAFInterval <= 0 {
		cfg.CAFInterval = time.Minute
	}
	store, err := Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	s3raw, err := archive.NewS3(cfg.S3)
	if err != nil {
		store.Close()
		return nil, err
	}
	var s3 archive.Store = s3raw
	if cfg.WrapStore != nil {
		s3 = cfg.WrapStore(s3raw)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	svc := &Service{Store: store, cancel: cancel}
	var queues []string
	for _, q := range bus.Declaration().Queues {
		queues = append(queues, q.Name)
	}
	var srv *Server
	changed := func() {
		if srv != nil {
			srv.Changed()
		}
	}
	broker := NewBrokerWatch(cfg.AMQPURL, queues, cfg.StatsInterval, cfg.Logger, changed)
	cafs := NewCAFWatch(s3, cfg.CAFInterval, cfg.Logger)
	var feed *Feed
	if cfg.Feed == FeedQueue {
		feed = NewFeed(FeedConfig{URL: cfg.AMQPURL, Queue: cfg.Queue, Declare: cfg.Declare, Logger: cfg.Logger}, store)
	}
	srv, err = New(runCtx, Config{
		Store: store, Archive: s3, Feed: feed, Broker: broker, CAFs: cafs, AMQPURL: cfg.AMQPURL,
		HTTPEvents: cfg.Feed == FeedHTTP, OperatorToken: cfg.OperatorToken, ViewToken: cfg.ViewToken,
		Warnings: cfg.Warnings, StuckAfter: cfg.StuckAfter, Logger: cfg.Logger,
	})
	if err != nil {
		cancel()
		store.Close()
		return nil, err
	}
	svc.Server = srv
	svc.goRun(func() { broker.Run(runCtx) })
	svc.goRun(func() { cafs.Run(runCtx) })
	svc.goRun(func() {
		svc.rebuildIfEmpty(runCtx, s3, cfg.Logger)
		if feed != nil {
			_ = feed.Run(runCtx)
		}
	})
	return svc, nil
}

func (svc *Service) goRun(f func()) {
	svc.wg.Add(1)
	go func() { defer svc.wg.Done(); f() }()
}

// rebuildIfEmpty fills an empty projection from the archive's states,
// before the feed starts (the queue keeps what arrives meanwhile). A
// rebuild that fails is reported on the page and retried on the next
// start; the feed runs anyway.
func (svc *Service) rebuildIfEmpty(ctx context.Context, store archive.Store, log *slog.Logger) {
	empty, err := svc.Store.Empty(ctx)
	if err != nil || !empty {
		return
	}
	start := time.Now()
	svc.Server.SetRebuild("reconstruyendo desde el archivo…")
	n, err := svc.Store.Rebuild(ctx, store, func(read, total int) {
		svc.Server.SetRebuild(fmt.Sprintf("reconstruyendo desde el archivo: %d de %d estados", read, total))
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("dashboard: rebuild from the archive failed", "error", err, "states", n)
		svc.Server.SetRebuild("la reconstrucción desde el archivo falló: " + err.Error())
		return
	}
	log.Info("dashboard: rebuilt from the archive", "states", n, "took", time.Since(start).String())
	svc.Server.SetRebuild(fmt.Sprintf("reconstruido desde el archivo: %d estados en %s", n, time.Since(start).Round(time.Millisecond)))
}

// Handler is the web side.
func (svc *Service) Handler() http.Handler { return svc.Server.Handler() }

// Ready reports whether the dashboard can serve.
func (svc *Service) Ready(ctx context.Context) error { return svc.Server.Ready(ctx) }

// Close stops the feed and the watchers (unacknowledged messages return
// to the queue) and closes the database.
func (svc *Service) Close() error {
	svc.cancel()
	svc.wg.Wait()
	return svc.Store.Close()
}

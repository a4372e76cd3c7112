package main

import (
	"fmt"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dashboard"
)

// Config is the dashboard's configuration, read once from the environment.
type Config struct {
	Port            int              // PORT (8080)
	AMQPURL         string           // AMQP_URL or AMQP_URL_FILE: the feed, queue depths, replays
	DeclareTopology bool             // DECLARE_TOPOLOGY (true): declare the topology when the feed connects
	Feed            string           // DASHBOARD_FEED (queue): queue = its own queue dte.dashboard; http = Knative Triggers POST to /events
	DBPath          string           // DASHBOARD_DB (/tmp/dashboard.db): the SQLite projection, rebuilt from the archive when empty
	OperatorToken   string           // DASHBOARD_TOKEN or DASHBOARD_TOKEN_FILE: allows replays; unset = read-only
	ViewToken       string           // DASHBOARD_VIEW_TOKEN or DASHBOARD_VIEW_TOKEN_FILE: when set, needed to see anything
	S3              archive.S3Config // S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY(_FILE), S3_SECRET_KEY(_FILE)
	FolioWarning    int              // FOLIO_WARNING (100): warn when a CAF has fewer folios left
	CAFExpiryWarn   time.Duration    // CAF_EXPIRY_WARNING (720h): warn when a CAF expires sooner
	StuckAfter      time.Duration    // STUCK_AFTER (1h): a document in sent for longer is flagged
	ShutdownTimeout time.Duration    // SHUTDOWN_TIMEOUT (25s)
	LogLevel        string           // LOG_LEVEL (info)
	Procs           int              // GOMAXPROCS (1, dashboard.DefaultProcs): read here to change the runtime's default
	GCPercent       int              // GOGC (400, dashboard.DefaultGCPercent)
}

// LoadConfig reads the configuration; the error lists every bad variable.
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		Port:            env.Int("PORT", 8080),
		DeclareTopology: env.Bool("DECLARE_TOPOLOGY", true),
		Feed:            env.String("DASHBOARD_FEED", dashboard.FeedQueue),
		DBPath:          env.String("DASHBOARD_DB", "/tmp/dashboard.db"),
		S3:              archive.S3ConfigFromEnv(env),
		FolioWarning:    env.Int("FOLIO_WARNING", 100),
		CAFExpiryWarn:   env.Duration("CAF_EXPIRY_WARNING", 30*24*time.Hour),
		StuckAfter:      env.Duration("STUCK_AFTER", time.Hour),
		ShutdownTimeout: env.Duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		LogLevel:        env.String("LOG_LEVEL", "info"),
		Procs:           env.Int("GOMAXPROCS", dashboard.DefaultProcs),
		GCPercent:       env.Int("GOGC", dashboard.DefaultGCPercent),
	}
	c.AMQPURL, _ = env.Secret("AMQP_URL", bus.LocalURL)
	c.OperatorToken, _ = env.Secret("DASHBOARD_TOKEN", "")
	c.ViewToken, _ = env.Secret("DASHBOARD_VIEW_TOKEN", "")
	err := env.Err()
	var problems []string
	if c.Feed != dashboard.FeedQueue && c.Feed != dashboard.FeedHTTP {
		problems = append(problems, fmt.Sprintf("DASHBOARD_FEED=%q: want %s or %s", c.Feed, dashboard.FeedQueue, dashboard.FeedHTTP))
	}
	if c.FolioWarning < 0 {
		problems = append(problems, fmt.Sprintf("FOLIO_WARNING=%d: want 0 or more", c.FolioWarning))
	}
	if c.DBPath == "" {
		problems = append(problems, "DASHBOARD_DB is empty")
	}
	if len(problems) > 0 {
		msg := "configuration: "
		if err != nil {
			msg = err.Error() + "; "
		}
		for i, p := range problems {
			if i > 0 {
				msg += "; "
			}
			msg += p
		}
		return c, fmt.Errorf("%s", msg)
	}
	return c, err
}

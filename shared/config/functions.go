package config

import "time"

// Enqueue is enqueue's configuration.
type Enqueue struct {
	Base
	Dev
	Broker
	Telemetry
	Secret          string        `env:"ENQUEUE_SECRET,secret" dev:"local-dev-enqueue-secret" help:"HMAC key shared with the addon"`
	Window          time.Duration `env:"SIGNATURE_WINDOW" default:"5m" help:"accepted clock skew and replay window of the addon's signature"`
	PublishTimeout  time.Duration `env:"PUBLISH_TIMEOUT" default:"5s" help:"longest wait for the broker's confirm (then 503, nothing queued)"`
	MaxBody         int64         `env:"MAX_BODY_BYTES" default:"1048576" help:"largest request accepted (413 above); the request schema's own limit"`
	PublishChannels int           `env:"PUBLISH_CHANNELS" default:"16" help:"confirm channels used in parallel"`
	// The archive, read to refuse at once a different request for a folio
	// already signed (409).
	FolioCheck     string `env:"FOLIO_CHECK" default:"archive" enum:"archive,off" help:"archive: refuse at once (409) a different request for a folio already signed, one archive read per request; off: no read (one S3 call and its wait less per document), and sign refuses such a request (Odoo is told error)"`
	S3             S3
	ArchiveTimeout time.Duration `env:"ARCHIVE_TIMEOUT" default:"2s" help:"longest wait for the archive when checking whether a folio is already signed from another request (then the request is queued and sign checks)"`
}

// Sign is sign's configuration.
type Sign struct {
	Base
	Broker
	Reply
	Retry
	Telemetry
	S3    S3
	Probe S3Probe
	Cert  Cert
	// SIIKeysDir holds extra CAF-signing keys.
	SIIKeysDir   string        `env:"SII_CAF_KEYS" help:"a directory of extra CAF-signing keys (the local run's test SII); the SII's IDK 100 and 300 keys are built in"`
	CAFCacheTTL  time.Duration `env:"CAF_CACHE_TTL" default:"1m" help:"how long CAFs read from the archive are reused"`
	EventTimeout time.Duration `env:"EVENT_TIMEOUT" default:"60s" help:"one event's handling"`
}

// Submit is submit's configuration.
type Submit struct {
	Base
	Broker
	Reply
	Retry
	Telemetry
	S3              S3
	Probe           S3Probe
	Cert            Cert
	SIIEnv          string          `env:"SII_ENV" default:"maullin" help:"maullin (certification), palena (production) or a base URL (the simulator)"`
	SIITimeout      time.Duration   `env:"SII_TIMEOUT" default:"30s" help:"one SII call"`
	TokenTTL        time.Duration   `env:"SII_TOKEN_TTL" default:"30m" help:"longest reuse of an SII token"`
	CheckDelays     []time.Duration `env:"CHECK_DELAYS" default:"1s,2s,5s,15s,30s,1m,2m,5m,15m" help:"waits between status checks; the last repeats"`
	CheckDeadline   time.Duration   `env:"CHECK_DEADLINE" default:"48h" help:"when to stop waiting for the SII's verdict"`
	NoteWait        time.Duration   `env:"NOTE_WAIT" default:"30s" help:"how often a note looks again at the document it modifies"`
	NoteDeadline    time.Duration   `env:"NOTE_DEADLINE" default:"48h" help:"how long a note waits for the SII to accept that document"`
	NoteRefGrace    time.Duration   `env:"NOTE_REFERENCE_GRACE" default:"15m" help:"how long a note waits for the document it modifies (same issuer) to appear in the archive, late (its signing retried), before deciding it was not issued through this pipeline and sending the note"`
	LostUploadGrace time.Duration   `env:"LOST_UPLOAD_GRACE" default:"2m" help:"how long after an upload began it may still be in progress: until then another delivery waits for its result; after it, an upload with no TrackID is lost: the SII is asked about the document, and it is sent again if the SII does not have it. Must exceed EVENT_TIMEOUT"`
	EventTimeout    time.Duration   `env:"EVENT_TIMEOUT" default:"90s" help:"one event's handling"`
}

// Notify is notify's configuration.
type Notify struct {
	Base
	Dev
	Reply
	Telemetry
	CallbackURL     string        `env:"ODOO_CALLBACK_URL" default:"http://127.0.0.1:8069/api/dte/callback" help:"Odoo's callback route"`
	Secret          string        `env:"CALLBACK_SECRET,secret" dev:"local-dev-callback-secret" help:"HMAC key shared with the addon"`
	CallbackTimeout time.Duration `env:"CALLBACK_TIMEOUT" default:"10s" help:"one POST to Odoo; a failed one is retried by the platform's deliveries"`
	// What the customer receives (docs/design.md): on an accepted
	// document notify reads the signed DTE, prints it, builds the
	// receiver's EnvioDTE (signed with the company's certificate) and
	// archives both.
	S3         S3
	Probe      S3Probe
	Cert       Cert
	SIIKeysDir string `env:"SII_CAF_KEYS" help:"a directory of extra CAF-signing keys (the local run's test SII); the SII's IDK 100 and 300 keys are built in"`
	// Printing allocates about 4 MB per accepted document (fpdf makes a
	// new compressor for every page), so with the runtime's default the
	// collector ran every few documents: 400 took notify's CPU per
	// printed document from 7.1–7.4 to 4.0–4.3 ms (make bench-notify) and
	// its peak RSS in the pipeline benchmark from 38 to 69 MB.
	GCPercent int `env:"GOGC" default:"400" help:"the Go collector's target (percent of live heap)"`
}

// Dashboard is the operations dashboard's configuration.
type Dashboard struct {
	Base
	Broker
	S3            S3
	Feed          string        `env:"DASHBOARD_FEED" default:"queue" enum:"queue,http" help:"queue: its own queue dte.dashboard; http: Knative Triggers POST each event to /events"`
	DBPath        string        `env:"DASHBOARD_DB" default:"/tmp/dashboard.db" help:"the SQLite projection, rebuilt from the archive when empty"`
	OperatorToken string        `env:"DASHBOARD_TOKEN,secret" help:"allows replays from the page; unset: read-only"`
	ViewToken     string        `env:"DASHBOARD_VIEW_TOKEN,secret" help:"when set, needed to see anything"`
	FolioWarning  int           `env:"FOLIO_WARNING" default:"100" help:"warn when a CAF has fewer folios left"`
	CAFExpiryWarn time.Duration `env:"CAF_EXPIRY_WARNING" default:"720h" help:"warn when a CAF expires sooner"`
	StuckAfter    time.Duration `env:"STUCK_AFTER" default:"1h" help:"a document in sent for longer is flagged"`
	// The Go runtime reads GOMAXPROCS and GOGC itself; declared here for
	// the dashboard's own defaults (one core, a lazy collector: it keeps
	// up with 100 documents/s in under 5 % of a core that way).
	Procs     int `env:"GOMAXPROCS" default:"1" help:"cores the dashboard's Go runtime uses"`
	GCPercent int `env:"GOGC" default:"400" help:"the Go collector's target (percent of live heap)"`
}

// Function is one function and its configuration's type.
type Function struct {
	Name string
	Spec any // a zero value of its configuration struct
}

// Functions lists the functions, in the pipeline's order.
func Functions() []Function {
	return []Function{{"enqueue", Enqueue{}}, {"sign", Sign{}}, {"submit", Submit{}}, {"notify", Notify{}}, {"dashboard", Dashboard{}}}
}

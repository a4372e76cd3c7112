package telemetry

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric of the pipeline.
const Namespace = "dte"

// Metrics are the pipeline's Prometheus metrics. Every process registers
// all of them (a vector with no series shows nothing), so names never
// depend on which function serves them. Labels are bounded sets: stages,
// event types, operations, outcome classes, HTTP status codes, issuer RUTs
// and document types; never a dtekey, a folio or an error's text.
type Metrics struct {
	// Delivery (sign, submit, notify): one event handled.
	EventsHandled  *prometheus.CounterVec   // stage, type, outcome
	EventDuration  *prometheus.HistogramVec // stage, type
	EventsInFlight *prometheus.GaugeVec     // stage
	EventsEmitted  *prometheus.CounterVec   // stage, type

	// enqueue: requests from Odoo.
	EnqueueRequests *prometheus.CounterVec // code
	EnqueueDuration prometheus.Histogram
	EnqueueInFlight prometheus.Gauge

	// Publishes with the broker's confirm (enqueue, sign, submit, dispatcher).
	PublishDuration *prometheus.HistogramVec // exchange, outcome

	// SII (submit).
	SIICalls             *prometheus.CounterVec   // operation, answer
	SIIDuration          *prometheus.HistogramVec // operation
	SIITokenRefreshes    prometheus.Counter
	SIITokenInvalidation prometheus.Counter
	SentAge              prometheus.Histogram

	// Archive (enqueue, sign, submit, dashboard).
	S3Requests *prometheus.CounterVec   // operation, outcome
	S3Duration *prometheus.HistogramVec // operation

	// Odoo callbacks (notify).
	CallbackRequests *prometheus.CounterVec // code
	CallbackDuration prometheus.Histogram
	DeadReported     *prometheus.CounterVec // stage, reason

	// CAFs (sign).
	CAFFoliosRemaining *prometheus.GaugeVec // issuer, type
	CAFExpiry          *prometheus.GaugeVec // issuer, type

	// Dispatcher.
	Deliveries       *prometheus.CounterVec   // queue, action
	DeliveryDuration *prometheus.HistogramVec // queue
	DeliveriesActive *prometheus.GaugeVec     // queue
	Retries          *prometheus.CounterVec   // stage, reason
	DeadLetters      *prometheus.CounterVec   // stage, reason

	catalog []Info
}

// Info describes one metric the code registers, for the operations files'
// check (dashboards and alert rules may use only these names).
type Info struct {
	Name   string // full name, e.g. dte_events_handled_total
	Type   string // counter, gauge or histogram
	Labels []string
	Help   string
}

// Buckets of the histograms, in seconds.
var (
	// fastBuckets: publishes and S3 calls on a local network.
	fastBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// callBuckets: a stage's handling, SII and Odoo calls.
	callBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	// ageBuckets: how long a document waits for the SII's verdict.
	ageBuckets = []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800}
)

// Groups of metrics, by what a process does.
const (
	groupDelivery = "delivery" // serves a stage: sign, submit, notify
	groupEnqueue  = "enqueue"
	groupPublish  = "publish" // publishes with confirms: enqueue, sign, submit, dispatcher
	groupSII      = "sii"     // submit
	groupS3       = "s3"      // enqueue, sign, submit, notify, dashboard
	groupCallback = "callback"
	groupCAF      = "caf"
	groupDispatch = "dispatch"
)

// serviceGroups are the groups each process serves; the others would only
// show empty series there.
var serviceGroups = map[string][]string{
	"enqueue":    {groupEnqueue, groupPublish, groupS3},
	"sign":       {groupDelivery, groupPublish, groupS3, groupCAF},
	"submit":     {groupDelivery, groupPublish, groupS3, groupSII},
	"notify":     {groupDelivery, groupCallback, groupS3},
	"dispatcher": {groupDispatch, groupPublish},
	"dashboard":  {groupS3},
}

// NewMetrics creates every metric and registers them all, with the Go
// runtime's and the process's collectors, in reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) { return newMetrics(reg, "") }

// newMetrics creates every metric and registers in reg those of service's
// groups (all of them for a service it does not know).
func newMetrics(reg prometheus.Registerer, service string) (*Metrics, error) {
	m := &Metrics{}
	b := builder{m: m}
	b.group = groupDelivery
	m.EventsHandled = b.counterVec("events_handled_total", "Events a function handled, by stage, event type and outcome (ok; permanent; retry and retrying: a transient failure retried by the stage, in the fast or the slow tier; exhausted: its retry budget spent; transient: left to the platform; poison; bug).", "stage", "type", "outcome")
	m.EventDuration = b.histogramVec("event_handling_duration_seconds", "Time to handle one event, publishes and their confirms included.", callBuckets, "stage", "type")
	m.EventsInFlight = b.gaugeVec("events_in_flight", "Events being handled now.", "stage")
	m.EventsEmitted = b.counterVec("events_emitted_total", "Events a stage emitted and delivery published (or replied), by type.", "stage", "type")

	b.group = groupEnqueue
	m.EnqueueRequests = b.counterVec("enqueue_requests_total", "Requests enqueue answered, by HTTP status code (202: queued).", "code")
	m.EnqueueDuration = b.histogram("enqueue_request_duration_seconds", "Time to answer one enqueue request, the broker's confirm included.", fastBuckets)
	m.EnqueueInFlight = b.gauge("enqueue_requests_in_flight", "Enqueue requests being answered now.")

	b.group = groupPublish
	m.PublishDuration = b.histogramVec("publish_confirm_duration_seconds", "Time from publishing a message to the broker's confirm, by exchange and outcome (ok, unavailable, no_confirm, nacked, unroutable).", fastBuckets, "exchange", "outcome")

	b.group = groupSII
	m.SIICalls = b.counterVec("sii_calls_total", "Calls to the SII, by operation (upload, getEstUp, getEstDte) and answer class.", "operation", "answer")
	m.SIIDuration = b.histogramVec("sii_call_duration_seconds", "Time of one call to the SII (a token fetched for it included).", callBuckets, "operation")
	m.SIITokenRefreshes = b.counter("sii_token_refreshes_total", "New SII tokens obtained (getSeed, signed seed, getToken).")
	m.SIITokenInvalidation = b.counter("sii_token_rejections_total", "SII tokens dropped because the SII refused them.")
	m.SentAge = b.histogram("sent_document_age_seconds", "How long documents in status sent (TrackID known, no verdict) have waited since the upload, observed each time submit looks at one (each status check).", ageBuckets)

	b.group = groupS3
	m.S3Requests = b.counterVec("s3_requests_total", "Calls to the archive's S3 server, by operation (get, head, put, list, delete) and outcome (ok, not_found, exists, conflict, error).", "operation", "outcome")
	m.S3Duration = b.histogramVec("s3_request_duration_seconds", "Time of one call to the S3 server.", fastBuckets, "operation")

	b.group = groupCallback
	m.CallbackRequests = b.counterVec("callback_requests_total", "Callbacks posted to Odoo, by HTTP status code (error: no answer).", "code")
	m.CallbackDuration = b.histogram("callback_duration_seconds", "Time of one callback to Odoo.", callBuckets)
	m.DeadReported = b.counterVec("dead_letters_reported_total", "Dead letters notify took from dte.dead, by the stage they died in and the reason class (retry_exhausted, http_NNN, broker_*, timeout, network, other).", "stage", "reason")

	b.group = groupCAF
	m.CAFFoliosRemaining = b.gaugeVec("caf_folios_remaining", "Folios left in the unexpired CAFs of an issuer and document type, above the highest folio this sign instance has signed (folios are used in order).", "issuer", "type")
	m.CAFExpiry = b.gaugeVec("caf_expiry_timestamp_seconds", "When the first unexpired CAF of an issuer and document type that still has folios expires (Unix time).", "issuer", "type")

	b.group = groupDispatch
	m.Deliveries = b.counterVec("dispatch_deliveries_total", "Messages the dispatcher delivered to a function, by queue and what became of them (delivered, retried, dead_lettered, dropped, returned).", "queue", "action")
	m.DeliveryDuration = b.histogramVec("dispatch_delivery_duration_seconds", "Time from taking a message to settling it (the function's answer and any retry or dead letter confirmed).", callBuckets, "queue")
	m.DeliveriesActive = b.gaugeVec("dispatch_deliveries_in_flight", "Messages the dispatcher is delivering now.", "queue")
	m.Retries = b.counterVec("retries_total", "Deliveries the dispatcher retried through the delay queues, by stage and reason class (the platform's retries; sign and submit retry their transient failures themselves: dte_events_handled_total{outcome=~\"retry|retrying\"}).", "stage", "reason")
	m.DeadLetters = b.counterVec("dead_letters_total", "Messages the dispatcher dead-lettered, by stage and reason class.", "stage", "reason")

	groups, known := serviceGroups[service]
	for i, c := range b.collectors {
		if known && !slices.Contains(groups, b.groups[i]) {
			continue
		}
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	return m, nil
}

// Catalog lists the metrics NewMetrics registers (not the runtime's).
func (m *Metrics) Catalog() []Info { return m.catalog }

// builder makes metrics and keeps their catalog.
type builder struct {
	m          *Metrics
	group      string // of the metrics made now
	collectors []prometheus.Collector
	groups     []string // each collector's
}

func (b *builder) add(c prometheus.Collector, name, typ, help string, labels []string) {
	b.collectors = append(b.collectors, c)
	b.groups = append(b.groups, b.group)
	b.m.catalog = append(b.m.catalog, Info{Name: Namespace + "_" + name, Type: typ, Labels: labels, Help: help})
}

func (b *builder) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	b.add(c, name, "counter", help, labels)
	return c
}

func (b *builder) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	b.add(c, name, "counter", help, nil)
	return c
}

func (b *builder) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	b.add(g, name, "gauge", help, labels)
	return g
}

func (b *builder) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	b.add(g, name, "gauge", help, nil)
	return g
}

func (b *builder) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	b.add(h, name, "histogram", help, labels)
	return h
}

func (b *builder) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
	b.add(h, name, "histogram", help, nil)
	return h
}

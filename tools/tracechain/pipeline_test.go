package tracechain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/callback"
	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dispatch"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/localpki"
	"github.com/dtecl/pipeline/shared/request"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
	"github.com/dtecl/pipeline/shared/stage"
	"github.com/dtecl/pipeline/shared/stage/enqueue"
	"github.com/dtecl/pipeline/shared/stage/notify"
	"github.com/dtecl/pipeline/shared/stage/sign"
	"github.com/dtecl/pipeline/shared/stage/submit"
	"github.com/dtecl/pipeline/shared/telemetry"
	"github.com/dtecl/pipeline/shared/webhook"
	"github.com/dtecl/pipeline/tools/odoofake"
	"github.com/dtecl/pipeline/tools/siisim"
)

const (
	enqueueSecret  = "trace-enqueue-secret"
	callbackSecret = "trace-callback-secret"
	odooDB         = "odoo"
)

// pipeline is the four functions, the dispatcher, the SII simulator and
// the fake Odoo, in this process.
type pipeline struct {
	spans      *tracetest.SpanRecorder
	enqueueURL string
	odoo       *odoofake.Server
	sii        *siisim.Server
	dispatcher *telemetry.Telemetry
	submit     *telemetry.Telemetry
	logs       *lockedBuffer // every function's log lines (JSON)
}

// startPipeline wires everything as functions/*/main.go and the local
// stack do, each function with its own Telemetry (its own tracer
// provider), all recording into one SpanRecorder.
func startPipeline(t *testing.T, cafSpec localpki.CAFSpec) *pipeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	amqpURL := bustest.VHost(t)
	if err := bus.WithChannel(amqpURL, 5*time.Second, func(ch *amqp.Channel) error { return bus.Declaration().Declare(ch) }); err != nil {
		t.Fatal(err)
	}
	p := &pipeline{spans: tracetest.NewSpanRecorder(), logs: &lockedBuffer{}}
	newTel := func(name string) *telemetry.Telemetry {
		tel, err := telemetry.New(ctx, name, config.Telemetry{}, telemetry.WithSpanProcessor(p.spans))
		if err != nil {
			t.Fatal(err)
		}
		return tel
	}
	logger := func(name string) *slog.Logger {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(p.logs, nil))).With("function", name)
	}
	publisher := func(tel *telemetry.Telemetry) *bus.Publisher {
		pub := bus.NewPublisher(bus.PublisherConfig{URL: amqpURL, Observer: tel.Publishes()})
		t.Cleanup(func() { pub.Close() })
		return pub
	}
	serveHTTP := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}

	// Keys, the signing certificate and the CAF, as the local stack makes them.
	pki, err := localpki.New()
	if err != nil {
		t.Fatal(err)
	}
	files, err := pki.WriteFiles(t.TempDir(), "trace-password", cafSpec)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.LoadFile(files.SignerP12, "", files.Password)
	if err != nil {
		t.Fatal(err)
	}
	store := archivetest.NewMem()
	rawCAF, err := os.ReadFile(files.CAFs[0])
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := caf.Parse(rawCAF)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := archive.New(store).PutCAF(ctx, parsed.Issuer, parsed.Type, parsed.From, parsed.To, rawCAF); err != nil {
		t.Fatal(err)
	}
	validator, err := request.NewValidator()
	if err != nil {
		t.Fatal(err)
	}

	// The SII simulator (an upload moves on every second: the first status
	// checks find it still in process) and the fake Odoo.
	schemas, err := siisim.Schemas("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { schemas.Close() })
	p.sii, err = siisim.New(siisim.Config{Inspector: siisim.NewProjectInspector(pki.Keys(), schemas), Step: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	siiURL := serveHTTP(p.sii)
	p.odoo = odoofake.New([]byte(callbackSecret), odooDB, nil)
	odooURL := serveHTTP(p.odoo)

	// enqueue (functions/enqueue/main.go).
	telE := newTel("enqueue")
	p.enqueueURL = serveHTTP(telE.Enqueue(&enqueue.Handler{
		Validator: validator, Publisher: telemetry.EventsFromSpan(publisher(telE)), Secret: []byte(enqueueSecret),
		Window: 5 * time.Minute, PublishTimeout: 5 * time.Second, MaxBody: 1 << 20, Now: time.Now, Logger: logger("enqueue"),
		Archive: archive.New(telE.Store(store)), ArchiveTimeout: 2 * time.Second,
	})) + "/"

	// The two retry tiers of sign and submit, in seconds: one fast retry,
	// then the slow tier (Odoo told: cl.dte.retrying).
	retry := delivery.Retry{Fast: []time.Duration{time.Second}, Slow: []time.Duration{time.Second}, Budget: time.Hour, Tier: bus.TierFor}

	// sign (functions/sign/main.go).
	telS := newTel("sign")
	signer, err := dte.NewSigner(cert, dte.WithSIIKeys(pki.Keys()))
	if err != nil {
		t.Fatal(err)
	}
	fSign := sign.New(validator, signer, telS.CAFs(archive.New(telS.Store(store)), time.Now), time.Minute, time.Now, logger("sign"))
	signURL := serveHTTP(mustDelivery(t, fSign.Handle, delivery.Config{
		Stage: "sign", Types: sign.Types, Queue: bus.QueueSign, Publisher: publisher(telS), Logger: logger("sign"), Observer: telS.Deliveries("sign"),
		Retry: retry,
	}))

	// submit (functions/submit/main.go).
	telU := newTel("submit")
	p.submit = telU
	cred, err := sii.NewCertificateCredential(cert)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sii.NewClient(sii.Environment(siiURL), sii.WithTransport(telU.SIITransport(http.DefaultTransport)),
		sii.WithTokenCache(telU.TokenCache(sii.NewMemoryTokenCache())))
	if err != nil {
		t.Fatal(err)
	}
	envSigner, err := dte.NewSigner(cert)
	if err != nil {
		t.Fatal(err)
	}
	archU := telemetry.StatesArchive{Archive: archive.New(telU.Store(store)), Observe: telU.SentAges(time.Now)}
	fSubmit, err := submit.New(telU.SII(client), cred, envelopes{envSigner}, archU, submit.Config{
		CheckDelays: []time.Duration{time.Second}, CheckDeadline: time.Hour, NoteWait: time.Second, NoteDeadline: time.Hour, LostUploadGrace: time.Second,
	}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	submitURL := serveHTTP(mustDelivery(t, fSubmit.Handle, delivery.Config{
		Stage: "submit", Types: submit.Types, Queue: bus.QueueSubmit, Publisher: publisher(telU), Logger: logger("submit"), Observer: telU.Deliveries("submit"),
		Stages: map[string]string{events.TypeCheck: "check"}, Retry: retry,
	}))

	// notify (functions/notify/main.go), without the handover of accepted
	// documents (its S3 calls are spans like sign's and submit's).
	telN := newTel("notify")
	fNotify := notify.New(&callback.Client{URL: odooURL + odoofake.Path, Secret: []byte(callbackSecret),
		HTTP: &http.Client{Transport: telN.CallbackTransport(http.DefaultTransport)}}, nil, logger("notify"))
	mux := http.NewServeMux()
	mux.Handle("/", mustDelivery(t, fNotify.Handle, delivery.Config{Stage: "notify", Types: notify.Types, Logger: logger("notify"), DeadLetterPermanent: true, Observer: telN.Deliveries("notify")}))
	mux.Handle("/dead", mustDelivery(t, fNotify.HandleDead, delivery.Config{Stage: "notify", Logger: logger("notify"), DeadLetterPermanent: true, Observer: telN.DeadLetters()}))
	notifyURL := serveHTTP(mux)

	// The dispatcher (tools/local, dte dispatch).
	p.dispatcher = newTel("dispatcher")
	d, err := dispatch.New(dispatch.Config{
		URL: amqpURL, Backoff: []time.Duration{time.Second},
		Routes: []dispatch.Route{
			{Queue: bus.QueueSign, URL: signURL + "/", Parallelism: 2},
			{Queue: bus.QueueSubmit, URL: submitURL + "/", Parallelism: 2},
			{Queue: bus.QueueNotify, URL: notifyURL + "/"},
			{Queue: bus.QueueDead, URL: notifyURL + "/dead"},
		},
		Logger: logger("dispatcher"), Observer: p.dispatcher.Dispatches(), PublishObserver: p.dispatcher.Publishes(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return p
}

func mustDelivery(t *testing.T, h stage.Handler, cfg delivery.Config) http.Handler {
	t.Helper()
	srv, err := delivery.New(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// send posts a request to enqueue as the addon does, with its traceparent.
func (p *pipeline) send(t *testing.T, body []byte, traceparent string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.enqueueURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.Header, webhook.Sign([]byte(enqueueSecret), time.Now(), body))
	req.Header.Set("traceparent", traceparent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("enqueue answered %d", resp.StatusCode)
	}
}

// envelopes adapts dte.Signer to submit's Enveloper (as functions/submit does).
type envelopes struct{ s *dte.Signer }

func (e envelopes) Envelope(ctx context.Context, dteXML []byte, c submit.Caratula, _ time.Time) ([]byte, string, error) {
	env, err := e.s.Envelope(ctx, dte.Header{Issuer: c.Issuer, Resolution: c.Resolution, SetID: c.SetID}, dteXML)
	if err != nil {
		return nil, "", err
	}
	return env.XML, env.SetID, nil
}

// sample is samples/requests/factura-33.json issued today (the CAF is
// authorised today), with the key it makes.
func sample(t *testing.T) (body []byte, issuer rut.RUT, folio int64, moveID int64) {
	t.Helper()
	raw, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	doc := m["document"].(map[string]any)
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	doc["issue_date"] = time.Now().In(loc).Format(time.DateOnly)
	delete(doc, "due_date")
	if refs, ok := m["references"].([]any); ok {
		for _, r := range refs {
			r.(map[string]any)["date"] = doc["issue_date"]
		}
	}
	body, _ = json.Marshal(m)
	issuer, err = rut.Parse(m["issuer"].(map[string]any)["rut"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return body, issuer, int64(doc["folio"].(float64)), int64(m["odoo"].(map[string]any)["move_id"].(float64))
}

// lockedBuffer collects log lines from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			panic(fmt.Sprintf("log line is not JSON: %s", line))
		}
		out = append(out, m)
	}
	return out
}

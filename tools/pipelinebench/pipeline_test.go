// Package pipelinebench measures the whole pipeline on one machine: the
// real RabbitMQ and S3 server, the four function binaries, the dispatcher,
// the SII simulator settling at once, and a fake Odoo.
//
//	make bench-pipeline    (go test -run '^$' -bench Pipeline -benchtime 1000x ./tools/pipelinebench/)
package pipelinebench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/bus/bustest"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/tools/local"
	"github.com/dtecl/pipeline/tools/odoofake"
)

// BenchmarkPipeline sends b.N facturas (distinct folios) and waits until
// the SII simulator accepted every one. It reports documents per second
// from the first enqueue to the last acceptance, and the p50/p99 latency
// from enqueue to "sent" (TrackID known) and to "accepted". The first status
// check waits a second (the shortest delay tier), which bounds the
// enqueue → accepted latency from below, not the throughput.
func BenchmarkPipeline(b *testing.B) { runPipeline(b, 0, 1) }

// BenchmarkPipelinePaced offers documents at a steady 20 per second, below
// what the machine sustains, so the latencies are a document's own and not
// the time it queued behind a burst.
func BenchmarkPipelinePaced(b *testing.B) { runPipeline(b, 20, 1) }

// BenchmarkPipelineReplicas is BenchmarkPipeline with sign and submit run
// as 1, 2 and 4 processes each, every one fed by its own consumers of the
// same queue. Besides the throughput it reports the duplicates: uploads
// per document the SII received and distinct TrackIDs per document (1.00
// each when nothing was done twice).
func BenchmarkPipelineReplicas(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) { runPipeline(b, 0, n) })
	}
}

// runPipeline sends b.N documents, all at once (rate 0) or rate per second,
// with sign and submit run as replicas processes each.
func runPipeline(b *testing.B, rate float64, replicas int) {
	ctx := context.Background()
	bin := b.TempDir()
	// CRYPTO=boringcrypto (make bench-pipeline CRYPTO=boringcrypto): sign
	// and submit on BoringCrypto, as scripts/gobuild.sh builds them.
	if err := local.BuildFunctions(ctx, bin, os.Getenv("CRYPTO")); err != nil {
		b.Fatal(err)
	}
	b.Logf("functions built with CRYPTO=%s", cmp.Or(os.Getenv("CRYPTO"), "std"))
	base, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		b.Fatal(err)
	}
	rec := newRecorder()
	stack, err := local.Start(ctx, local.Config{
		BinDir: bin, WorkDir: workDir(b), AMQPURL: bustest.VHost(b), S3: s3Config(),
		SIIStep: 0, Parallelism: 8, Replicas: map[string]int{"sign": replicas, "submit": replicas},
		CAFs:        []local.CAFRange{{Issuer: "76086428-5", Type: 33, From: 1, To: 1_000_000}},
		FunctionEnv: functionEnv(),
		OnCallback:  rec.callback,
		Telemetry:   telemetryFromEnv(b),
	})
	if err != nil {
		b.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			stack.Stop()
		}
	}()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = withFolio(b, base, int64(i+1))
	}
	pids := processes(b, stack, s3Config().Endpoint)
	b.ResetTimer()
	before := measure(b, stack, pids)
	prof := startProfiles(b, pids, "sign", "submit", "enqueue", "notify", "self")
	start := time.Now()
	sendAll(b, stack, bodies, rec, 16, rate)
	err = rec.wait(b.N, 10*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	prof.stop()
	if err != nil {
		for i, r := range stack.SII.Received() {
			if i < 5 {
				b.Logf("upload %s: status %d %v %s %+v", r.TrackID, r.Status, r.Detail, r.Reason, r.Documents)
			}
		}
		b.Fatal(err)
	}
	// Late events (the last callbacks' retries, if any) are not waited
	// for: every document has reached Odoo as accepted.
	after := measure(b, stack, pids)
	stack.Stop()
	stopped = true
	if v := stack.Odoo.Violations(); len(v) > 0 {
		b.Fatalf("callback contract violations: %v", v)
	}
	uploads, trackIDs := duplicates(stack)
	b.Logf("SII calls: %v", stack.SII.Stats())
	report(b, before, after, b.N)
	sent, accepted := rec.latencies()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "docs/s")
	b.ReportMetric(float64(uploads)/float64(b.N), "uploads/doc")
	b.ReportMetric(float64(trackIDs)/float64(b.N), "trackids/doc")
	b.ReportMetric(pct(sent, 0.50), "p50-sent-ms")
	b.ReportMetric(pct(sent, 0.99), "p99-sent-ms")
	b.ReportMetric(pct(accepted, 0.50), "p50-accepted-ms")
	b.ReportMetric(pct(accepted, 0.99), "p99-accepted-ms")
}

// functionEnv is the functions' environment in these runs, with
// DTE_BENCH_FUNCTION_ENV's VAR=value words added to each (experiments:
// DTE_BENCH_FUNCTION_ENV=GOGC=400).
func functionEnv() map[string][]string {
	env := map[string][]string{"submit": {"CHECK_DELAYS=1s"}, "sign": {"LOG_LEVEL=warn"}, "notify": {"LOG_LEVEL=warn"}, "enqueue": {"LOG_LEVEL=warn"}}
	for name := range env {
		env[name] = append(env[name], strings.Fields(os.Getenv("DTE_BENCH_FUNCTION_ENV"))...)
	}
	return env
}

// telemetryFromEnv is the dispatcher's tracing from the OTEL_* variables,
// which the functions inherit too: with OTEL_EXPORTER_OTLP_ENDPOINT set the
// run measures the pipeline with every span exported.
func telemetryFromEnv(b *testing.B) config.Telemetry {
	var t config.Telemetry
	if _, err := config.Load(config.OS(), &t); err != nil {
		b.Fatal(err)
	}
	return t
}

// duplicates counts what the SII took: uploads, and distinct TrackIDs
// given per document (both b.N when nothing was done twice).
func duplicates(stack *local.Stack) (uploads, trackIDs int) {
	seen := map[string]bool{}
	for _, r := range stack.SII.Received() {
		uploads++
		for _, d := range r.Documents {
			if r.TrackID != "" && !seen[d.DTEKey+" "+r.TrackID] {
				seen[d.DTEKey+" "+r.TrackID] = true
				trackIDs++
			}
		}
	}
	return uploads, trackIDs
}

func s3Config() archive.S3Config {
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	return archive.S3Config{
		Endpoint: get("TEST_S3_ENDPOINT", config.DefaultOf(config.S3{}, "S3_ENDPOINT")), Bucket: "dte-bench", Region: archive.DefaultRegion,
		AccessKey: get("TEST_S3_ACCESS_KEY", config.DefaultOf(config.S3{}, "S3_ACCESS_KEY")), SecretKey: get("TEST_S3_SECRET_KEY", config.DefaultOf(config.S3{}, "S3_SECRET_KEY")),
	}
}

func withFolio(b *testing.B, base []byte, folio int64) []byte {
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		b.Fatal(err)
	}
	d := m["document"].(map[string]any)
	d["folio"] = folio
	// Issued today in Chile: the stack's CAFs are authorised today, and the
	// simulator rejects a document issued before its CAF.
	d["issue_date"] = today()
	delete(d, "due_date")
	m["odoo"].(map[string]any)["move_id"] = folio
	out, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func today() string {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		loc = time.UTC
	}
	return time.Now().In(loc).Format(time.DateOnly)
}

func sendAll(b *testing.B, stack *local.Stack, bodies [][]byte, rec *recorder, workers int, rate float64) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rec.enqueued(fmt.Sprintf("76086428-5-33-%d", i+1))
				if _, err := stack.Send(context.Background(), bodies[i]); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	start := time.Now()
	for i := range bodies {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// recorder keeps, per document, when it was enqueued, sent and settled.
type recorder struct {
	mu                   sync.Mutex
	enq, sent, settledAt map[string]time.Time
	result               map[string]string
}

func newRecorder() *recorder {
	return &recorder{enq: map[string]time.Time{}, sent: map[string]time.Time{}, settledAt: map[string]time.Time{}, result: map[string]string{}}
}

func (r *recorder) enqueued(key string) {
	r.mu.Lock()
	r.enq[key] = time.Now()
	r.mu.Unlock()
}

func (r *recorder) callback(c odoofake.Callback) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch c.Status {
	case "sent":
		r.sent[c.DTEKey] = c.Received
	case "accepted", "objected", "rejected", "error":
		r.settledAt[c.DTEKey] = c.Received
		r.result[c.DTEKey] = c.Status
	}
}

func (r *recorder) wait(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		done := len(r.settledAt)
		var bad []string
		for k, s := range r.result {
			if s != "accepted" {
				bad = append(bad, k+" "+s)
			}
		}
		r.mu.Unlock()
		if len(bad) > 0 {
			sort.Strings(bad)
			return fmt.Errorf("documents not accepted: %v", bad)
		}
		if done >= n {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not every document settled in %s", timeout)
}

func (r *recorder) latencies() (sent, accepted []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t0 := range r.enq {
		if t, ok := r.sent[k]; ok {
			sent = append(sent, t.Sub(t0))
		}
		if t, ok := r.settledAt[k]; ok {
			accepted = append(accepted, t.Sub(t0))
		}
	}
	return sent, accepted
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
}

// workDir keeps the stack's keys and logs in DTE_BENCH_WORKDIR when set, to
// read the functions' logs after a run; else in a temporary directory.
func workDir(b *testing.B) string {
	if d := os.Getenv("DTE_BENCH_WORKDIR"); d != "" {
		return d
	}
	return b.TempDir()
}

// Package pipelinebench measures the whole pipeline on one machine: the
// real RabbitMQ and S3 server, the four function binaries, the dispatcher,
// the SII simulator settling at once, and a fake Odoo.
//
//	make bench-pipeline    (go test -run '^$' -bench Pipeline -benchtime 1000x ./tools/pipelinebench/)
package pipelinebench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"
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
func BenchmarkPipeline(b *testing.B) { runPipeline(b, 0) }

// BenchmarkPipelinePaced offers documents at a steady 20 per second, below
// what the machine sustains, so the latencies are a document's own and not
// the time it queued behind a burst.
func BenchmarkPipelinePaced(b *testing.B) { runPipeline(b, 20) }

// runPipeline sends b.N documents, all at once (rate 0) or rate per second.
func runPipeline(b *testing.B, rate float64) {
	ctx := context.Background()
	bin := b.TempDir()
	if err := local.BuildFunctions(ctx, bin); err != nil {
		b.Fatal(err)
	}
	base, err := os.ReadFile("../../samples/requests/factura-33.json")
	if err != nil {
		b.Fatal(err)
	}
	rec := newRecorder()
	stack, err := local.Start(ctx, local.Config{
		BinDir: bin, WorkDir: workDir(b), AMQPURL: bustest.VHost(b), S3: s3Config(),
		SIIStep: 0, Parallelism: 8,
		CAFs:        []local.CAFRange{{Issuer: "76086428-5", Type: 33, From: 1, To: 1_000_000}},
		FunctionEnv: map[string][]string{"submit": {"CHECK_DELAYS=1s"}, "sign": {"LOG_LEVEL=warn"}, "notify": {"LOG_LEVEL=warn"}, "enqueue": {"LOG_LEVEL=warn"}},
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
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	sendAll(b, stack, bodies, rec, 16, rate)
	if err := rec.wait(b.N, 10*time.Minute); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	// The functions' CPU is counted once they have exited (stopped).
	stack.Stop()
	stopped = true
	cpu := cpuTime() - cpu0
	if v := stack.Odoo.Violations(); len(v) > 0 {
		b.Fatalf("callback contract violations: %v", v)
	}
	if n := len(stack.SII.Received()); n != b.N {
		b.Fatalf("the SII received %d uploads for %d documents", n, b.N)
	}
	b.Logf("SII calls: %v", stack.SII.Stats())
	sent, accepted := rec.latencies()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "docs/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/doc")
	b.ReportMetric(pct(sent, 0.50), "p50-sent-ms")
	b.ReportMetric(pct(sent, 0.99), "p99-sent-ms")
	b.ReportMetric(pct(accepted, 0.50), "p50-accepted-ms")
	b.ReportMetric(pct(accepted, 0.99), "p99-accepted-ms")
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

// cpuTime is the CPU (user and system) used so far by this process (the
// dispatcher, the SII simulator, the fake Odoo, the sender) and by its
// children that have exited (the four functions, once stopped): the
// pipeline's own work, without RabbitMQ's and the S3 server's. Less
// sensitive than documents per second to what else runs on the machine.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(children.Utime) + tv(children.Stime)
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

var chile = func() *time.Location {
	if loc, err := time.LoadLocation("America/Santiago"); err == nil {
		return loc
	}
	return time.FixedZone("CLT", -3*3600)
}()

func withFolio(b *testing.B, base []byte, folio int64) []byte {
	var m map[string]any
	if err := json.Unmarshal(base, &m); err != nil {
		b.Fatal(err)
	}
	d := m["document"].(map[string]any)
	d["folio"] = folio
	// Dated today in Chile: the stack's CAF is authorised today, and the
	// SII rejects a document dated before its CAF (the sample's date).
	d["issue_date"] = time.Now().In(chile).Format(time.DateOnly)
	delete(d, "due_date")
	m["odoo"].(map[string]any)["move_id"] = folio
	out, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return out
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

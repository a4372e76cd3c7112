package enqueue

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/webhook"
)

// BenchmarkEnqueue measures enqueue end to end over HTTP against the real
// RabbitMQ with publisher confirms and the real S3 server (the folio check):
// requests per second and latency percentiles with 1, 16 and 64 concurrent
// clients (closed loop).
//
//	go test -run ^$ -bench Enqueue -benchtime 3000x ./shared/stage/enqueue/
func BenchmarkEnqueue(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			srv, body := benchServer(b, true)
			lat := make([]time.Duration, b.N)
			var next int64
			var mu sync.Mutex
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						i := next
						next++
						mu.Unlock()
						if i >= int64(b.N) {
							return
						}
						lat[i] = post(b, srv, body)
					}
				}()
			}
			wg.Wait()
			report(b, lat, time.Since(start))
		})
	}
}

// BenchmarkEnqueueAt500rps offers a steady 500 requests per second (open
// loop, like Odoo workers sending invoices) and reports the latency
// percentiles at that rate; the target is p99 under 10 ms.
//
// The sub-benchmark archive=off leaves out the read of the archive (the
// folio check), to show what that read costs at this rate.
func BenchmarkEnqueueAt500rps(b *testing.B) {
	for _, withArchive := range []bool{true, false} {
		name := "archive=on"
		if !withArchive {
			name = "archive=off"
		}
		b.Run(name, func(b *testing.B) { enqueueAt500rps(b, withArchive) })
	}
}

func enqueueAt500rps(b *testing.B, withArchive bool) {
	srv, body := benchServer(b, withArchive)
	const rate = 500
	interval := time.Second / rate
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lat[i] = post(b, srv, body)
		}(i)
	}
	wg.Wait()
	report(b, lat, time.Since(start))
}

// benchServer is enqueue as deployed: the broker with confirms, and the
// archive (the local versitygw) read for every request, whose folio is not
// signed yet.
func benchServer(b *testing.B, withArchive bool) (*httptest.Server, []byte) {
	b.Helper()
	h, _, _ := brokerHandler(b, time.Now())
	h.Now = time.Now
	if withArchive {
		attachArchive(b, h)
	}
	hs := httptest.NewServer(h)
	b.Cleanup(hs.Close)
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 128
	return hs, sample(b, "factura-33.json")
}

// attachArchive gives h the local versitygw as its archive.
func attachArchive(b *testing.B, h *Handler) {
	b.Helper()
	srv := archivetest.Versitygw()
	srv.Require(b)
	store, err := archive.NewS3(srv.Config("dte-enqueue-bench"))
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureBucket(context.Background()); err != nil {
		b.Fatal(err)
	}
	h.Archive, h.ArchiveTimeout = archive.New(store), 2*time.Second
}

func post(b *testing.B, srv *httptest.Server, body []byte) time.Duration {
	t0 := time.Now()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.Header, webhook.Sign(testSecret, time.Now(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(t0)
}

func report(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkHandlerNoBroker is the handler's own cost (signature check,
// schema and rule validation, event building) without the broker.
func BenchmarkHandlerNoBroker(b *testing.B) {
	h := newHandler(b, &discardPublisher{}, time.Now())
	h.Now = time.Now
	body := sample(b, "factura-33.json")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if rec := h.do(call{body: body}, time.Now()); rec.Code != http.StatusAccepted {
			b.Fatal(rec.Code)
		}
	}
}

type discardPublisher struct{}

func (discardPublisher) PublishEvent(context.Context, events.Event) error { return nil }

package coldstart

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/dte/dtetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/request"
)

// root is the repository root, seen from this package.
const root = "../.."

// Targets of a cold start (the issue's): first answer and memory at rest.
const (
	targetFirstAnswer = 100 * time.Millisecond
	targetRSSKiB      = 30 * 1024
)

// callbacks is a stand-in for Odoo's callback route: it counts the signed
// POSTs notify makes.
type callbacks struct {
	mu     sync.Mutex
	signed int
}

func (c *callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-DTE-Signature"), "t=") {
		c.mu.Lock()
		c.signed++
		c.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (c *callbacks) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signed
}

// eventProbe POSTs e in binary mode, as Knative's source and broker do.
func eventProbe(name string, e events.Event, want int) Probe {
	return Probe{Name: name, WantStatus: want, NewRequest: func(ctx context.Context, base string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/", nil)
		if err != nil {
			return nil, err
		}
		return req, cehttp.WriteRequest(ctx, binding.ToMessage(&e), req)
	}}
}

func mustEvent(t testing.TB, typ string, data any) events.Event {
	t.Helper()
	key, err := dtekey.New("76086428-5", 33, 1042)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.New(events.ID(key, "coldstart", typ), typ, events.SourceDispatcher, key, data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// setup is one function's measurement: its environment and first request.
type setup struct {
	fn    string
	env   []string
	probe Probe
	check func(t testing.TB) // after the runs, what the function must have done
}

func setups(t testing.TB) []setup {
	dir := t.TempDir()
	pki, err := dtetest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	files, err := pki.WriteFiles(filepath.Join(dir, "pki"), "coldstart")
	if err != nil {
		t.Fatal(err)
	}
	odoo := &callbacks{}
	srv := httptest.NewServer(odoo)
	t.Cleanup(srv.Close)
	common := []string{
		"PATH=" + os.Getenv("PATH"),
		"LOG_LEVEL=warn",
		"DECLARE_TOPOLOGY=false",
		"AMQP_URL=" + envOr("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
	}
	s3 := []string{
		"S3_ENDPOINT=" + envOr("TEST_S3_ENDPOINT", "http://127.0.0.1:7070"),
		"S3_ACCESS_KEY=" + envOr("TEST_S3_ACCESS_KEY", "dtelocal"),
		"S3_SECRET_KEY=" + envOr("TEST_S3_SECRET_KEY", "dtelocal-secret-key"),
		"CERT_FILE=" + files.SignerP12,
		"CERT_PASSWORD=" + files.Password,
	}
	return []setup{
		{
			fn:  "enqueue",
			env: append(slices.Clone(common), "ENQUEUE_SECRET=coldstart"),
			probe: Probe{Name: "an unsigned POST /", WantStatus: http.StatusUnauthorized,
				NewRequest: func(ctx context.Context, base string) (*http.Request, error) {
					req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/", strings.NewReader(`{}`))
					if err == nil {
						req.Header.Set("Content-Type", "application/json")
					}
					return req, err
				}},
		},
		{
			fn:    "sign",
			env:   append(append(slices.Clone(common), s3...), "REPLY_MODE=publish"),
			probe: eventProbe("a cl.dte.settled CloudEvent (not sign's: refused)", mustEvent(t, events.TypeSettled, map[string]string{}), http.StatusUnprocessableEntity),
		},
		{
			fn:    "submit",
			env:   append(append(slices.Clone(common), s3...), "REPLY_MODE=publish", "SII_ENV=maullin"),
			probe: eventProbe("a cl.dte.requested CloudEvent (not submit's: refused)", mustEvent(t, events.TypeRequested, map[string]string{}), http.StatusUnprocessableEntity),
		},
		{
			fn:  "notify",
			env: append(append(slices.Clone(common), s3...), "ODOO_CALLBACK_URL="+srv.URL+"/api/dte/callback", "CALLBACK_SECRET=coldstart"),
			probe: eventProbe("a cl.dte.signed CloudEvent (a callback to Odoo)", mustEvent(t, events.TypeSigned, events.Signed{
				DTEKey: "76086428-5-33-1042", Odoo: request.Odoo{Database: "odoo", MoveID: 42},
			}), http.StatusOK),
			check: func(t testing.TB) {
				if got := odoo.count(); got < 1 {
					t.Errorf("notify answered 200 but Odoo got %d signed callbacks", got)
				}
			},
		},
	}
}

// TestColdStart builds each function and measures its cold starts. It
// checks that each answers its first request as it should; with
// DTE_COLDSTART_STRICT=1 (make coldstart) it also holds the figures to the
// targets, which a loaded CI machine might miss.
func TestColdStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts every function")
	}
	runs := 3
	if n, err := strconv.Atoi(os.Getenv("DTE_COLDSTART_RUNS")); err == nil && n > 0 {
		runs = n
	}
	strict := os.Getenv("DTE_COLDSTART_STRICT") == "1"
	bins := t.TempDir()
	var report []string
	for _, s := range setups(t) {
		if _, err := os.Stat(filepath.Join(root, "functions", s.fn, "main.go")); err != nil {
			t.Errorf("%s: %v", s.fn, err)
			continue
		}
		t.Run(s.fn, func(t *testing.T) {
			bin, err := Build(t.Context(), root, s.fn, bins)
			if err != nil {
				t.Fatal(err)
			}
			var first, ready []time.Duration
			var rss, hwm int64
			for i := 0; i < runs; i++ {
				env := append(slices.Clone(s.env), "TMPDIR="+t.TempDir())
				r, err := Measure(t.Context(), bin, s.probe, Options{Env: env})
				if err != nil {
					t.Fatal(err)
				}
				first, ready = append(first, r.FirstAnswer), append(ready, r.Ready)
				rss, hwm = max(rss, r.RSSKiB), max(hwm, r.HWMKiB)
			}
			if s.check != nil {
				s.check(t)
			}
			med := median(first)
			line := fmt.Sprintf("%-8s first answer %6.1f ms (median of %d; min %.1f, max %.1f) to %s; /_/ready %6.1f ms; RSS at rest %5.1f MiB (peak %.1f)",
				s.fn, ms(med), runs, ms(slices.Min(first)), ms(slices.Max(first)), s.probe.Name, ms(median(ready)), float64(rss)/1024, float64(hwm)/1024)
			t.Log(line)
			report = append(report, line)
			if strict {
				if med > targetFirstAnswer {
					t.Errorf("%s: first answer after %s, target %s", s.fn, med, targetFirstAnswer)
				}
				if rss > targetRSSKiB {
					t.Errorf("%s: %.1f MiB at rest, target %d MiB", s.fn, float64(rss)/1024, targetRSSKiB/1024)
				}
			}
		})
	}
	t.Log("cold starts:\n" + strings.Join(report, "\n"))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkColdStart reports the same figures per function as benchmark
// metrics: go test -run '^$' -bench ColdStart -benchtime 5x ./tools/coldstart
func BenchmarkColdStart(b *testing.B) {
	bins := b.TempDir()
	for _, s := range setups(b) {
		b.Run(s.fn, func(b *testing.B) {
			bin, err := Build(b.Context(), root, s.fn, bins)
			if err != nil {
				b.Fatal(err)
			}
			var first, ready time.Duration
			var rss int64
			n := 0
			for b.Loop() {
				env := append(slices.Clone(s.env), "TMPDIR="+b.TempDir())
				r, err := Measure(b.Context(), bin, s.probe, Options{Env: env, Settle: 300 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				first, ready, rss, n = first+r.FirstAnswer, ready+r.Ready, max(rss, r.RSSKiB), n+1
			}
			b.ReportMetric(ms(first/time.Duration(n)), "ms/first-answer")
			b.ReportMetric(ms(ready/time.Duration(n)), "ms/ready")
			b.ReportMetric(float64(rss)/1024, "MiB-rss")
		})
	}
}

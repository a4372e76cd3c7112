package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/errs"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage"
)

var testRetry = Retry{
	Fast:   []time.Duration{time.Second, 5 * time.Second},
	Slow:   []time.Duration{time.Minute, 5 * time.Minute},
	Budget: time.Hour,
}

// failing is a stage that fails transiently every time.
func failing(err error) stage.Handler {
	return func(context.Context, events.Event) ([]stage.Emit, error) { return nil, err }
}

// TestTwoTierRetry follows one event that keeps failing: the fast tier
// (1 s, 5 s: 3 attempts), then the slow tier (1 min, then 5 min, which
// repeats), each wait announced to Odoo as cl.dte.retrying; then, once the
// budget is spent, 422 and nothing published (the platform dead-letters
// it). Every retry goes to the stage's own queue with its history.
func TestTwoTierRetry(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	pub := &fakePublisher{}
	h, err := New(failing(errors.New("S3: connection refused")), Config{
		Stage: "submit", Queue: "dte.submit", Publisher: pub, Retry: testRetry, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	e := signedEvent(t)
	start := now
	steps := []struct {
		wait     time.Duration
		retrying bool
	}{{time.Second, false}, {5 * time.Second, false}, {time.Minute, true}, {5 * time.Minute, true}, {5 * time.Minute, true}}
	for i, want := range steps {
		pub.got, pub.keys, pub.delays = nil, nil, nil
		if rec := post(t, h, e, false); rec.Code != 200 {
			t.Fatalf("attempt %d: status %d: %s", i+1, rec.Code, rec.Body)
		}
		got := published(pub)
		if len(got) == 0 || got[0] != "cl.dte.signed/dte.submit/"+want.wait.String() {
			t.Fatalf("attempt %d: published %v, want the event again after %s", i+1, got, want.wait)
		}
		again := pub.got[0]
		if n, since := events.RetryOf(again); n != i+1 || !since.Equal(start) {
			t.Fatalf("attempt %d: history %d since %s, want %d since %s", i+1, n, since, i+1, start)
		}
		if again.ID() != e.ID() || !again.Time().Equal(e.Time()) || again.Extensions()[events.ExtTraceparent] == nil {
			t.Fatalf("attempt %d: the retry is not the same event: %s %s", i+1, again.ID(), again.Time())
		}
		if !want.retrying {
			if len(got) != 1 {
				t.Fatalf("attempt %d (fast tier): Odoo told: %v", i+1, got)
			}
		} else {
			if len(got) != 2 || got[1] != "cl.dte.retrying/cl.dte.retrying/0s" {
				t.Fatalf("attempt %d (slow tier): published %v, want the retry and cl.dte.retrying", i+1, got)
			}
			r, err := events.Decode[events.Retrying](pub.got[1])
			if err != nil {
				t.Fatal(err)
			}
			if r.Stage != "submit" || r.Attempts != i+1 || !strings.Contains(r.Reason, "connection refused") || r.Odoo.MoveID != 9 ||
				!r.NextAttemptAt.Equal(now.Add(want.wait)) || !r.FirstFailure.Equal(start) || !r.GiveUpAt.Equal(start.Add(testRetry.Budget)) {
				t.Fatalf("attempt %d: retrying %+v", i+1, r)
			}
		}
		e = again
		now = now.Add(want.wait)
	}
	// The budget is spent: 422, which every platform dead-letters at once.
	now = start.Add(testRetry.Budget)
	pub.got = nil
	rec := post(t, h, e, false)
	if rec.Code != 422 || len(pub.got) != 0 || !strings.Contains(rec.Body.String(), "retry budget exhausted") || !strings.Contains(rec.Body.String(), "connection refused") {
		t.Fatalf("budget spent: status %d, body %q, published %v", rec.Code, rec.Body, published(pub))
	}
}

// TestRetryBudgetPerType: submit's status checks retry until
// CHECK_DEADLINE, other events for RETRY_BUDGET.
func TestRetryBudgetPerType(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := testRetry
	r.Budgets = map[string]time.Duration{events.TypeCheck: 48 * time.Hour}
	pub := &fakePublisher{}
	h, _ := New(failing(errors.New("SII 503")), Config{Stage: "submit", Stages: map[string]string{events.TypeCheck: "check"}, Queue: "dte.submit", Publisher: pub, Retry: r, Now: func() time.Time { return now }})
	old := now.Add(-2 * time.Hour)
	check := events.WithRetry(checkEvent(t, "c-1"), 7, old)
	if rec := post(t, h, check, false); rec.Code != 200 || len(pub.got) != 2 {
		t.Fatalf("a check 2 h into its 48 h budget: %d, published %v", rec.Code, published(pub))
	}
	if d, _ := events.Decode[events.Retrying](pub.got[1]); d.Stage != "check" {
		t.Fatalf("the check's stage is reported as %q", d.Stage)
	}
	if rec := post(t, h, events.WithRetry(signedEvent(t), 7, old), false); rec.Code != 422 {
		t.Fatalf("an upload 2 h into its 1 h budget: %d", rec.Code)
	}
}

// TestSuccessForgetsTheFailures: once the stage succeeds, what it emits
// (its own event again, waiting for something, included) carries no retry
// history; a permanent failure reports how many attempts it took.
func TestSuccessForgetsTheFailures(t *testing.T) {
	pub := &fakePublisher{}
	h, _ := New(func(_ context.Context, in events.Event) ([]stage.Emit, error) {
		return []stage.Emit{stage.Now(*nextEvent(t)), stage.Again(in, 30*time.Second)}, nil
	}, Config{Stage: "submit", Queue: "dte.submit", Publisher: pub, Retry: testRetry})
	if rec := post(t, h, events.WithRetry(signedEvent(t), 4, time.Now().Add(-time.Minute)), false); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	for _, e := range pub.got {
		if events.HasRetry(e) {
			t.Fatalf("%s kept the retry history after a success", e.Type())
		}
	}
	pub.got = nil
	hp, _ := New(failing(errs.Permanentf("folio outside every CAF")), Config{Stage: "submit", Queue: "dte.submit", Publisher: pub, Retry: testRetry})
	if rec := post(t, hp, events.WithRetry(signedEvent(t), 4, time.Now().Add(-time.Minute)), false); rec.Code != 200 || len(pub.got) != 1 {
		t.Fatalf("permanent: %d %v", rec.Code, published(pub))
	}
	if f, _ := events.Decode[events.Failed](pub.got[0]); f.Attempts != 5 || f.Retryable {
		t.Fatalf("failed %+v, want 5 attempts, not retryable", f)
	}
}

// TestCarriedFactsReachTheRetry: what a stage carries with a transient
// failure (stage.Carry) is on the retried event.
func TestCarriedFactsReachTheRetry(t *testing.T) {
	pub := &fakePublisher{}
	h, _ := New(failing(stage.Carry(errors.New("record TrackID: S3 down"), map[string]string{"trackid": "4711"})),
		Config{Stage: "submit", Queue: "dte.submit", Publisher: pub, Retry: testRetry})
	if rec := post(t, h, signedEvent(t), false); rec.Code != 200 || len(pub.got) != 1 {
		t.Fatalf("status %d, published %v", rec.Code, published(pub))
	}
	if got := pub.got[0].Extensions()["trackid"]; got != "4711" {
		t.Fatalf("carried trackid %v", got)
	}
}

// TestRetryThatCannotBePublishedIs503: the broker refusing the retry
// leaves it to the platform, like any failed publish.
func TestRetryThatCannotBePublishedIs503(t *testing.T) {
	pub := &fakePublisher{err: errors.New("broker down")}
	h, _ := New(failing(errors.New("SII 503")), Config{Stage: "submit", Queue: "dte.submit", Publisher: pub, Retry: testRetry})
	if rec := post(t, h, signedEvent(t), false); rec.Code != 503 {
		t.Fatalf("status %d", rec.Code)
	}
	if _, err := New(failing(nil), Config{Stage: "sign", Retry: testRetry}); err == nil {
		t.Fatal("a retry policy without a queue and a publisher was accepted")
	}
	if _, err := New(failing(nil), Config{Stage: "sign", Queue: "dte.sign", Publisher: pub, Retry: Retry{Fast: []time.Duration{time.Second}}}); err == nil {
		t.Fatal("a retry policy without a slow tier was accepted")
	}
}

// TestWorkOutlivesTheCaller: the caller hangs up (its request context is
// cancelled) while the stage works: the stage's context is not cancelled,
// its work completes and its events are published.
func TestWorkOutlivesTheCaller(t *testing.T) {
	pub := &fakePublisher{}
	reqCtx, hangUp := context.WithCancel(context.Background())
	var sawCancel bool
	h, _ := New(func(ctx context.Context, _ events.Event) ([]stage.Emit, error) {
		hangUp()
		select {
		case <-ctx.Done():
			sawCancel = true
		case <-time.After(50 * time.Millisecond):
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the stage's context has no deadline (EVENT_TIMEOUT)")
		}
		return []stage.Emit{stage.Now(*nextEvent(t))}, nil
	}, Config{Stage: "submit", Publisher: pub, Timeout: time.Minute})
	e := signedEvent(t)
	req := httptest.NewRequest(http.MethodPost, "/", nil).WithContext(reqCtx)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if sawCancel || len(pub.got) != 1 {
		t.Fatalf("the caller hanging up cancelled the work (%v) or its event (published %v)", sawCancel, published(pub))
	}
}

// TestLastAttemptWhenTheBudgetEnds: a slow-tier wait that would pass the
// end of the budget is shortened: the last attempt comes when it ends.
func TestLastAttemptWhenTheBudgetEnds(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := Retry{Fast: []time.Duration{time.Second}, Slow: []time.Duration{time.Hour}, Budget: 3 * time.Hour}
	for _, tt := range []struct {
		since time.Duration // how long ago the first failure was
		want  time.Duration
	}{{time.Hour, time.Hour}, {2*time.Hour + 45*time.Minute, 15 * time.Minute}, {3*time.Hour - time.Millisecond, time.Second}} {
		st := r.next(events.WithRetry(signedEvent(t), 5, now.Add(-tt.since)), now)
		if st.exhausted || st.wait != tt.want {
			t.Errorf("%s into a 3 h budget: wait %s (exhausted %v), want %s", tt.since, st.wait, st.exhausted, tt.want)
		}
	}
}

// spanObserver hands every request a context with the same span, as
// telemetry's observer does with a span of its own.
type spanObserver struct{ sc trace.SpanContext }

func (o spanObserver) Begin(r *http.Request, _ *events.Event) (context.Context, func(Outcome)) {
	return trace.ContextWithSpanContext(r.Context(), o.sc), func(Outcome) {}
}

// TestRetryIsAChildOfTheAttempt: the event a retry publishes again, and
// cl.dte.retrying, carry the trace context of the attempt that failed (so
// that, under a platform that passes no HTTP trace header, every attempt
// is one hop of the document's trace), and without an observer the
// incoming event's own.
func TestRetryIsAChildOfTheAttempt(t *testing.T) {
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled})
	attempt := "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"
	incoming := signedEvent(t).Extensions()[events.ExtTraceparent]
	for _, tt := range []struct {
		name string
		obs  Observer
		h    stage.Handler
		want any
	}{
		{"slow-tier retry, observed", spanObserver{sc}, failing(errors.New("S3 down")), attempt},
		{"slow-tier retry, not observed", nil, failing(errors.New("S3 down")), incoming},
		{"a stage waiting (stage.Again), observed", spanObserver{sc}, func(_ context.Context, in events.Event) ([]stage.Emit, error) {
			return []stage.Emit{stage.Again(in, time.Minute)}, nil
		}, attempt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			h, err := New(tt.h, Config{Stage: "submit", Queue: "dte.submit", Publisher: pub, Retry: testRetry, Observer: tt.obs})
			if err != nil {
				t.Fatal(err)
			}
			in := events.WithRetry(signedEvent(t), 3, time.Now().Add(-time.Minute)) // the next failure is in the slow tier
			if rec := post(t, h, in, false); rec.Code != 200 || len(pub.got) == 0 {
				t.Fatalf("status %d, published %v", rec.Code, published(pub))
			}
			for _, e := range pub.got {
				if got := e.Extensions()[events.ExtTraceparent]; got != tt.want {
					t.Errorf("%s: traceparent %v, want %v", e.Type(), got, tt.want)
				}
			}
			if got := in.Extensions()[events.ExtTraceparent]; got != incoming {
				t.Errorf("the incoming event was changed: traceparent %v", got)
			}
		})
	}
}

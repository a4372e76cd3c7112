package dashboardbench

import (
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/dashboard"
	"github.com/dtecl/pipeline/shared/events"
)

// TestSyntheticStream checks what BenchmarkDashboardFeed publishes: each
// step of a document is a pipeline event the dashboard reads as the
// expected kind, with distinct ids, so that the benchmark measures real
// work and not unreadable messages or duplicates.
func TestSyntheticStream(t *testing.T) {
	want := []string{dashboard.KindRequested, dashboard.KindSigned, dashboard.KindSubmitted, dashboard.KindCheck, dashboard.KindCheck, dashboard.KindSettled}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(steps), len(want))
	}
	ids := map[string]bool{}
	for doc := range 3 {
		for i := range steps {
			msg := message(doc, i)
			f, err := dashboard.ParseEvent(msg.Body, time.Now())
			if err != nil {
				t.Fatalf("document %d step %d: %v", doc, i, err)
			}
			if f.Kind != want[i] || msg.ContentType != events.ContentTypeStructured || msg.MessageId != f.ID {
				t.Errorf("document %d step %d: kind %s (want %s), content type %q, message id %q / event id %q", doc, i, f.Kind, want[i], msg.ContentType, msg.MessageId, f.ID)
			}
			if ids[f.ID] {
				t.Errorf("event id %s repeated", f.ID)
			}
			ids[f.ID] = true
		}
	}
	if steps[len(steps)-1].after*10 != 3300 {
		t.Errorf("a document's events span %d ms, want 3300 (the local run's)", steps[len(steps)-1].after*10)
	}
}

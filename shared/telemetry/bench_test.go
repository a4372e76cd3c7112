package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/dtecl/pipeline/shared/bus"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/delivery"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
	"github.com/dtecl/pipeline/shared/stage"
)

// BenchmarkDelivery is the cost the instrumentation adds to one event: the
// delivery of a CloudEvent over HTTP to a stage that emits one event, which
// is marshalled for the broker as bus.Publisher does (the broker itself
// left out, so that only the pipeline's own work is timed). bare: no
// observers; instrumented: metrics and spans, not exported (the default);
// exported: spans also go through the batch processor to an exporter.
//
//	go test -run '^$' -bench Delivery -benchmem ./shared/telemetry/
func BenchmarkDelivery(b *testing.B) {
	for _, v := range []struct {
		name   string
		tel    bool
		export bool
	}{{"bare", false, false}, {"instrumented", true, false}, {"exported", true, true}} {
		b.Run(v.name, func(b *testing.B) {
			var tel *Telemetry
			var obs delivery.Observer
			var pubObs bus.PublishObserver
			if v.tel {
				var opts []Option
				if v.export {
					opts = append(opts, WithSpanProcessor(sdktrace.NewBatchSpanProcessor(discardExporter{})))
				}
				var err error
				if tel, err = New(context.Background(), "sign", config.Telemetry{}, opts...); err != nil {
					b.Fatal(err)
				}
				defer tel.Shutdown(context.Background())
				obs, pubObs = tel.Deliveries("sign"), tel.Publishes()
			}
			k, _ := dtekey.Parse("76086428-5-33-1042")
			out, err := events.New("out", events.TypeSigned, events.SourceSign, k, events.Signed{DTEKey: k.String(), ArchiveKey: "dte/76086428-5/33/1042.xml"})
			if err != nil {
				b.Fatal(err)
			}
			h, err := delivery.New(func(context.Context, events.Event) ([]stage.Emit, error) {
				return []stage.Emit{stage.Now(out.Clone())}, nil
			}, delivery.Config{Stage: "sign", Publisher: marshalPublisher{pubObs}, Observer: obs, Timeout: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			in, err := events.New("in", events.TypeRequested, events.SourceEnqueue, k, []byte(`{"document":{"type":33,"folio":1042}}`))
			if err != nil {
				b.Fatal(err)
			}
			in.SetExtension(events.ExtTraceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/", nil)
				if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&in), req); err != nil {
					b.Fatal(err)
				}
				req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// marshalPublisher does what bus.Publisher does before the broker: the
// AMQP message, and the publish observer around it.
type marshalPublisher struct{ obs bus.PublishObserver }

func (p marshalPublisher) PublishEventTo(ctx context.Context, key string, e events.Event, _ time.Duration) error {
	msg, err := bus.Message(e)
	if err != nil {
		return err
	}
	if p.obs != nil {
		p.obs.Publishing(ctx, bus.ExchangeDirect, key, &msg)(nil)
	}
	return nil
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

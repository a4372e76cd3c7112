package telemetry

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// Store wraps the archive's object store: a client span per S3 call within
// a document's trace, and every call by operation and outcome with its
// time (start-up probes and readiness checks too).
func (t *Telemetry) Store(s archive.Store) archive.Store { return store{t: t, next: s} }

type store struct {
	t    *Telemetry
	next archive.Store
}

func (s store) Get(ctx context.Context, key string) (archive.Object, error) {
	ctx, done := s.start(ctx, "get", key)
	o, err := s.next.Get(ctx, key)
	done(err)
	return o, err
}

func (s store) Head(ctx context.Context, key string) (archive.Object, error) {
	ctx, done := s.start(ctx, "head", key)
	o, err := s.next.Head(ctx, key)
	done(err)
	return o, err
}

func (s store) Put(ctx context.Context, key string, body []byte, opts archive.PutOptions) (string, error) {
	ctx, done := s.start(ctx, "put", key)
	etag, err := s.next.Put(ctx, key, body, opts)
	done(err)
	return etag, err
}

func (s store) List(ctx context.Context, prefix string) ([]archive.ObjectInfo, error) {
	ctx, done := s.start(ctx, "list", prefix)
	l, err := s.next.List(ctx, prefix)
	done(err)
	return l, err
}

func (s store) Delete(ctx context.Context, key string) error {
	ctx, done := s.start(ctx, "delete", key)
	err := s.next.Delete(ctx, key)
	done(err)
	return err
}

func (s store) start(ctx context.Context, op, key string) (context.Context, func(error)) {
	begin := time.Now()
	var span trace.Span
	if hasParent(ctx) {
		ctx, span = s.t.tracer.Start(ctx, "s3 "+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.method", op), attribute.String("aws.s3.key", key)))
	}
	return ctx, func(err error) {
		outcome := storeOutcome(err)
		s.t.M.S3Requests.WithLabelValues(op, outcome).Inc()
		s.t.M.S3Duration.WithLabelValues(op).Observe(time.Since(begin).Seconds())
		if span == nil {
			return
		}
		span.SetAttributes(attribute.String("dte.outcome", outcome))
		if outcome == "error" {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

// storeOutcome classifies a store call: the answers the archive expects
// (not_found, exists, conflict) apart from failures (error).
func storeOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, archive.ErrNotFound):
		return "not_found"
	case errors.Is(err, archive.ErrExists):
		return "exists"
	case errors.Is(err, archive.ErrConflict):
		return "conflict"
	}
	return "error"
}

// StateLoader reads a document's state (what submit reads before each step).
type StateLoader interface {
	LoadState(ctx context.Context, k dtekey.Key) (archive.State, string, error)
}

// SentAges observes, each time a document's state is read in status sent,
// how long ago it was sent (dte_sent_document_age_seconds): submit reads
// the state at every status check, so a document the SII is slow to decide
// shows in the histogram's upper buckets, whichever instance checks it.
func (t *Telemetry) SentAges(now func() time.Time) func(archive.State) {
	return func(st archive.State) {
		if st.Status != archive.StatusSent {
			return
		}
		for _, h := range st.History {
			if h.Status == archive.StatusSent {
				t.M.SentAge.Observe(now().Sub(h.At).Seconds())
				return
			}
		}
	}
}

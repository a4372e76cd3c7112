package telemetry

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/sii"
)

// SIIClient is what submit asks of the SII (submit.SII).
type SIIClient interface {
	Upload(ctx context.Context, cred sii.Credential, env sii.Envelope) (*sii.Receipt, error)
	GetUploadStatus(ctx context.Context, cred sii.Credential, company rut.RUT, trackID string) (*sii.UploadStatus, error)
	GetDocumentStatus(ctx context.Context, cred sii.Credential, q sii.DocumentQuery) (*sii.DocumentStatus, error)
}

// SII wraps the SII client: a client span per call and the calls by
// operation and answer class, with their time (a token fetched for the
// call included; its own HTTP calls are spans of SIITransport).
func (t *Telemetry) SII(c SIIClient) SIIClient { return siiClient{t: t, next: c} }

type siiClient struct {
	t    *Telemetry
	next SIIClient
}

func (c siiClient) Upload(ctx context.Context, cred sii.Credential, env sii.Envelope) (*sii.Receipt, error) {
	ctx, done := c.start(ctx, sii.OpUpload, attribute.String("dte.sii.company", env.Company.String()))
	r, err := c.next.Upload(ctx, cred, env)
	if err == nil && r != nil {
		done("ok", nil, attribute.String("dte.sii.track_id", r.TrackID))
		return r, nil
	}
	done("ok", err)
	return r, err
}

func (c siiClient) GetUploadStatus(ctx context.Context, cred sii.Credential, company rut.RUT, trackID string) (*sii.UploadStatus, error) {
	ctx, done := c.start(ctx, sii.OpGetEstUp, attribute.String("dte.sii.track_id", trackID))
	s, err := c.next.GetUploadStatus(ctx, cred, company, trackID)
	answer := ""
	if err == nil && s != nil {
		answer = resultClass(string(s.Result))
		done(answer, err, attribute.String("dte.sii.estado", s.Estado))
		return s, err
	}
	done(answer, err)
	return s, err
}

func (c siiClient) GetDocumentStatus(ctx context.Context, cred sii.Credential, q sii.DocumentQuery) (*sii.DocumentStatus, error) {
	ctx, done := c.start(ctx, sii.OpGetEstDte)
	s, err := c.next.GetDocumentStatus(ctx, cred, q)
	answer := ""
	if err == nil && s != nil {
		answer = resultClass(string(s.Result))
		if !s.Received {
			answer = "not_received"
		}
		done(answer, err, attribute.String("dte.sii.estado", s.Estado))
		return s, err
	}
	done(answer, err)
	return s, err
}

// start opens the call's span; done closes it and counts the call with its
// answer class (the error's, when err is not nil).
func (c siiClient) start(ctx context.Context, op string, attrs ...attribute.KeyValue) (context.Context, func(answer string, err error, more ...attribute.KeyValue)) {
	begin := time.Now()
	ctx, span := c.t.tracer.Start(ctx, "sii "+op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(answer string, err error, more ...attribute.KeyValue) {
		if err != nil {
			answer = siiErrorClass(op, err)
			span.RecordError(err)
			span.SetStatus(codes.Error, answer)
		}
		c.t.M.SIICalls.WithLabelValues(op, answer).Inc()
		c.t.M.SIIDuration.WithLabelValues(op).Observe(time.Since(begin).Seconds())
		span.SetAttributes(append(more, attribute.String("dte.sii.answer", answer))...)
		span.End()
	}
}

// resultClass bounds an SII result to the known ones.
func resultClass(r string) string {
	switch sii.Result(r) {
	case sii.Pending, sii.Accepted, sii.Objected, sii.Rejected:
		return r
	}
	return "unknown"
}

// siiErrorClass is the answer class of a failed call: the package's own
// failure codes (network, timeout, http, html, login_page, soap_fault,
// malformed, signing), token_rejected, or the SII's code reduced to
// sii_transient / sii_permanent; auth_ in front when it was getting the
// token (getSeed, getToken) that failed.
func siiErrorClass(op string, err error) string {
	e, ok := sii.AsError(err)
	if !ok {
		return "error"
	}
	var class string
	switch {
	case e.TokenRejected:
		class = "token_rejected"
	case e.Code == sii.CodeNetwork || e.Code == sii.CodeTimeout || e.Code == sii.CodeHTTP || e.Code == sii.CodeHTML ||
		e.Code == sii.CodeLoginPage || e.Code == sii.CodeSOAPFault || e.Code == sii.CodeMalformed || e.Code == sii.CodeSigning:
		class = strings.ReplaceAll(e.Code, "-", "_")
	case e.Transient:
		class = "sii_transient"
	default:
		class = "sii_permanent"
	}
	if e.Op == sii.OpGetSeed || e.Op == sii.OpGetToken {
		if op != e.Op {
			class = "auth_" + class
		}
	}
	return class
}

// TokenCache wraps the SII token cache to count new tokens (each Put) and
// tokens the SII refused (each Delete: the client drops only those).
func (t *Telemetry) TokenCache(c sii.TokenCache) sii.TokenCache {
	return tokenCache{t: t, TokenCache: c}
}

type tokenCache struct {
	t *Telemetry
	sii.TokenCache
}

func (c tokenCache) Put(ctx context.Context, key string, tok sii.Token) error {
	c.t.M.SIITokenRefreshes.Inc()
	return c.TokenCache.Put(ctx, key, tok)
}

func (c tokenCache) Delete(ctx context.Context, key, value string) error {
	c.t.M.SIITokenInvalidation.Inc()
	return c.TokenCache.Delete(ctx, key, value)
}

// SIITransport is the SII client's HTTP transport: a client span per HTTP
// call (getSeed and getToken included), named after the SII's operation,
// when the call belongs to a trace.
func (t *Telemetry) SIITransport(base http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if !hasParent(r.Context()) {
			return base.RoundTrip(r)
		}
		ctx, span := t.tracer.Start(r.Context(), "sii HTTP "+siiOperation(r.URL.Path), trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path), attribute.String("server.address", r.URL.Host)))
		defer span.End()
		resp, err := base.RoundTrip(r.WithContext(ctx))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "no answer")
			return resp, err
		}
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 400 {
			span.SetStatus(codes.Error, resp.Status)
		}
		return resp, nil
	})
}

// siiOperation names the SII service at path.
func siiOperation(path string) string {
	switch path {
	case sii.PathSeed:
		return sii.OpGetSeed
	case sii.PathToken:
		return sii.OpGetToken
	case sii.PathUpload:
		return sii.OpUpload
	case sii.PathUploadEst:
		return sii.OpGetEstUp
	case sii.PathDocEst:
		return sii.OpGetEstDte
	}
	return "other"
}

// roundTripper is a function as an http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

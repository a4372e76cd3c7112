package sii

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults of a Client.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultUploadTimeout = 2 * time.Minute
	DefaultTokenTTL      = 20 * time.Minute
	// DefaultUserAgent carries the "PROG 1.0" marker DTEUpload needs to
	// answer in XML instead of HTML (docs/sii-protocol.md §2).
	DefaultUserAgent = "Mozilla/4.0 (compatible; PROG 1.0; dtecl-pipeline)"
	maxAnswerSize    = 4 << 20
)

// Client talks to one SII environment for any number of certificates. It is
// safe for concurrent use.
type Client struct {
	env           Environment
	http          *http.Client
	cache         TokenCache
	log           *slog.Logger
	timeout       time.Duration
	uploadTimeout time.Duration
	tokenTTL      time.Duration
	userAgent     string
	now           func() time.Time
	flight        singleflight.Group
}

// Option configures a Client.
type Option func(*Client) error

// NewClient returns a client for env (Maullin, Palena, or the base URL of
// another server such as the simulator).
func NewClient(env Environment, opts ...Option) (*Client, error) {
	if !strings.HasPrefix(string(env), "http://") && !strings.HasPrefix(string(env), "https://") {
		return nil, fmt.Errorf("sii client: environment %q is not an http(s) base URL", env)
	}
	c := &Client{
		env:           env,
		http:          &http.Client{},
		log:           slog.New(slog.DiscardHandler),
		timeout:       DefaultTimeout,
		uploadTimeout: DefaultUploadTimeout,
		tokenTTL:      DefaultTokenTTL,
		userAgent:     DefaultUserAgent,
		now:           time.Now,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("sii client: %w", err)
		}
	}
	if c.cache == nil {
		c.cache = NewMemoryTokenCache()
	}
	return c, nil
}

// WithTokenCache sets where tokens are kept (default: this process's memory).
func WithTokenCache(tc TokenCache) Option {
	return func(c *Client) error {
		if tc == nil {
			return errors.New("WithTokenCache: nil cache")
		}
		c.cache = tc
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.log = l
		return nil
	}
}

// WithTimeout sets the deadline of each SOAP call (default 30 s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %v is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithUploadTimeout sets the deadline of an upload (default 2 min).
func WithUploadTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("WithUploadTimeout: %v is not positive", d)
		}
		c.uploadTimeout = d
		return nil
	}
}

// WithTokenTTL sets how long a token is reused before a new one is asked
// for (default 20 min; the SII does not document a lifetime, docs/sii-protocol.md
// §1.4). A token the SII refuses is replaced earlier.
func WithTokenTTL(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("WithTokenTTL: %v is not positive", d)
		}
		c.tokenTTL = d
		return nil
	}
}

// WithTransport sets the HTTP transport calls go through (default:
// http.DefaultTransport), e.g. one that traces each call. Deadlines stay
// the client's own (WithTimeout, WithUploadTimeout).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) error {
		if rt == nil {
			return errors.New("WithTransport: nil transport")
		}
		c.http = &http.Client{Transport: rt}
		return nil
	}
}

// WithUserAgent sets the User-Agent. It must contain "PROG 1.0", without
// which DTEUpload answers in HTML.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if !strings.Contains(ua, "PROG 1.0") {
			return fmt.Errorf("WithUserAgent: %q lacks the \"PROG 1.0\" marker DTEUpload requires", ua)
		}
		c.userAgent = ua
		return nil
	}
}

// WithClock sets the clock used for token ages (tests).
func WithClock(now func() time.Time) Option {
	return func(c *Client) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// Environment returns the environment the client talks to.
func (c *Client) Environment() Environment { return c.env }

// answer is an HTTP answer read in full.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// post sends one request with its own deadline and reads the answer.
// Network failures and timeouts come back as transient *Error.
func (c *Client) post(ctx context.Context, op, url, contentType string, body []byte, timeout time.Duration, header http.Header) (*answer, *Error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Op: op, Code: CodeNetwork, Message: "cannot build request", Err: err}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.userAgent)
	for k, v := range header {
		req.Header[k] = v
	}
	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, netError(ctx, op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerSize))
	if err != nil {
		return nil, netError(ctx, op, err)
	}
	c.log.DebugContext(ctx, "sii call", "op", op, "http_status", resp.StatusCode, "duration", c.now().Sub(start))
	return &answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}, nil
}

func netError(ctx context.Context, op string, err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Op: op, Code: CodeTimeout, Message: "no answer in time", Transient: true, Err: err}
	}
	return &Error{Op: op, Code: CodeNetwork, Transient: true, Err: err}
}

// soapCall posts a SOAP request to the service at path and returns the
// unescaped return text.
func (c *Client) soapCall(ctx context.Context, op, path string, params []param) (string, *Error) {
	url := c.env.URL(path)
	a, e := c.post(ctx, op, url, "text/xml; charset=utf-8", soapRequest(url, op, params), c.timeout,
		http.Header{"Soapaction": {`""`}, "Accept": {"text/xml"}})
	if e != nil {
		return "", e
	}
	return readSOAPAnswer(op, a.status, a.contentType, a.body)
}

package archive

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/errs"
)

func TestS3ConfigValidation(t *testing.T) {
	good := S3Config{Endpoint: "http://127.0.0.1:7070", Bucket: "dte-archive", AccessKey: "a", SecretKey: "s"}
	tests := []struct {
		name   string
		change func(*S3Config)
		want   string // "" = valid
	}{
		{"valid", func(*S3Config) {}, ""},
		{"no endpoint", func(c *S3Config) { c.Endpoint = "" }, "endpoint is empty"},
		{"endpoint not a URL", func(c *S3Config) { c.Endpoint = "127.0.0.1:7070" }, "not an http(s) URL"},
		{"endpoint with path", func(c *S3Config) { c.Endpoint = "http://h:1/bucket" }, "has a path"},
		{"short bucket", func(c *S3Config) { c.Bucket = "b1" }, "3-63 characters"},
		{"upper-case bucket", func(c *S3Config) { c.Bucket = "DTE" }, "lower-case"},
		{"bucket edge", func(c *S3Config) { c.Bucket = "-dte" }, "start and end"},
		{"no keys", func(c *S3Config) { c.AccessKey, c.SecretKey = "", "" }, "access key is empty; secret key is empty"},
		{"negative timeout", func(c *S3Config) { c.Timeout = -1 }, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			s, err := NewS3(c)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.cfg.Region != DefaultRegion || s.cfg.Timeout != DefaultTimeout || s.cfg.MaxAttempts != DefaultMaxAttempts {
					t.Errorf("defaults not applied: %+v", s.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig naming %q", err, tt.want)
			}
		})
	}
}

// scripted answers every request with one canned S3 error.
func scripted(t *testing.T, status int, code string) (*S3, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>scripted</Message></Error>`))
		}
	}))
	t.Cleanup(srv.Close)
	s, err := NewS3(S3Config{Endpoint: srv.URL, Bucket: "dte-archive", AccessKey: "a", SecretKey: "s", MaxAttempts: 2, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s, &n
}

func TestS3ErrorClassification(t *testing.T) {
	type call func(ctx context.Context, s *S3) error
	get := func(ctx context.Context, s *S3) error { _, err := s.Get(ctx, "k"); return err }
	create := func(ctx context.Context, s *S3) error {
		_, err := s.Put(ctx, "k", []byte("x"), PutOptions{IfNoneMatch: "*"})
		return err
	}
	cas := func(ctx context.Context, s *S3) error {
		_, err := s.Put(ctx, "k", []byte("x"), PutOptions{IfMatch: `"e"`})
		return err
	}
	list := func(ctx context.Context, s *S3) error { _, err := s.List(ctx, "p/"); return err }
	tests := []struct {
		name      string
		status    int
		code      string
		call      call
		sentinel  error // nil: none of ours
		permanent bool
		requests  int32 // how many the SDK sent (retries)
	}{
		{"missing key", 404, "NoSuchKey", get, ErrNotFound, false, 1},
		{"missing bucket", 404, "NoSuchBucket", list, ErrConfig, false, 1},
		{"access denied", 403, "AccessDenied", get, ErrConfig, false, 1},
		{"bad signature", 403, "SignatureDoesNotMatch", create, ErrConfig, false, 1},
		{"unknown key id", 403, "InvalidAccessKeyId", list, ErrConfig, false, 1},
		{"create on existing", 412, "PreconditionFailed", create, ErrExists, false, 1},
		{"stale etag", 412, "PreconditionFailed", cas, ErrConflict, false, 1},
		{"concurrent conditional write", 409, "ConditionalRequestConflict", cas, ErrConflict, false, 1},
		{"bad argument", 400, "InvalidArgument", create, nil, true, 1},
		{"key too long", 400, "KeyTooLongError", create, nil, true, 1},
		{"server error is retried", 500, "InternalError", get, nil, false, 2},
		{"unavailable is retried", 503, "SlowDown", create, nil, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n := scripted(t, tt.status, tt.code)
			err := tt.call(context.Background(), s)
			if err == nil {
				t.Fatal("no error")
			}
			for _, sentinel := range []error{ErrNotFound, ErrConfig, ErrExists, ErrConflict} {
				if errors.Is(err, sentinel) != (sentinel == tt.sentinel) {
					t.Errorf("errors.Is(%v, %v) = %v", err, sentinel, !(sentinel == tt.sentinel))
				}
			}
			if errs.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", !tt.permanent, tt.permanent, err)
			}
			if n.Load() != tt.requests {
				t.Errorf("%d requests, want %d", n.Load(), tt.requests)
			}
			if !strings.Contains(err.Error(), "dte-archive") {
				t.Errorf("error does not name the bucket: %v", err)
			}
		})
	}
}

func TestS3Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s, err := NewS3(S3Config{Endpoint: "http://" + addr, Bucket: "dte-archive", AccessKey: "a", SecretKey: "s", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(context.Background(), "k")
	if err == nil || errs.IsPermanent(err) || errors.Is(err, ErrConfig) || errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want a plain transient error", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error does not name the endpoint: %v", err)
	}
}

func TestS3OperationTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, err := NewS3(S3Config{Endpoint: srv.URL, Bucket: "dte-archive", AccessKey: "a", SecretKey: "s", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Get(context.Background(), "k")
	if !errors.Is(err, context.DeadlineExceeded) || errs.IsPermanent(err) {
		t.Fatalf("err = %v, want a transient deadline error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Get returned after %v despite a 300 ms timeout", d)
	}
}

func TestS3TooLarge(t *testing.T) {
	s, err := NewS3(S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "dte-archive", AccessKey: "a", SecretKey: "s", MaxObjectSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(context.Background(), "k", []byte("12345"), PutOptions{})
	if !errors.Is(err, ErrTooLarge) || !errs.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent ErrTooLarge", err)
	}
}

package archive_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/testenv"
)

// Defaults of the integration server: scripts/s3-server.sh's local values.
const (
	defaultTestEndpoint  = "http://127.0.0.1:7070"
	defaultTestAccessKey = "dtelocal"
	defaultTestSecretKey = "dtelocal-secret-key"
	testBucket           = "dte-archive-test"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// versityConfig is the integration server's configuration from
// TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY and TEST_S3_SECRET_KEY.
func versityConfig() archive.S3Config {
	return archive.S3Config{
		Endpoint:  envOr("TEST_S3_ENDPOINT", defaultTestEndpoint),
		Bucket:    testBucket,
		AccessKey: envOr("TEST_S3_ACCESS_KEY", defaultTestAccessKey),
		SecretKey: envOr("TEST_S3_SECRET_KEY", defaultTestSecretKey),
		Timeout:   10 * time.Second,
	}
}

// versityS3 connects to the real S3 server of the integration tests. When
// nothing listens there it fails under make test and CI, where the server
// is part of the run, and skips otherwise.
func versityS3(t *testing.T) *archive.S3 {
	t.Helper()
	cfg := versityConfig()
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		t.Fatalf("TEST_S3_ENDPOINT %q: %v", cfg.Endpoint, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		testenv.Unavailable(t, "no S3 server at %s (start one with scripts/s3-server.sh start, or set TEST_S3_ENDPOINT): %v", cfg.Endpoint, err)
	}
	conn.Close()
	s, err := archive.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatalf("ensure bucket on %s: %v", cfg.Endpoint, err)
	}
	return s
}

// fakeS3 is an S3 store on gofakes3; pageSize > 0 forces small list pages.
func fakeS3(t *testing.T, pageSize int32) *archive.S3 {
	t.Helper()
	s, cfg := archivetest.NewFakeS3(t, testBucket)
	if pageSize == 0 {
		return s
	}
	cfg.ListPageSize = pageSize
	s, err := archive.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// randomIssuer is a valid RUT no other test run uses, so that tests
// against a shared server do not see each other's objects.
func randomIssuer(t *testing.T) rut.RUT {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return rut.New(10_000_000 + int64(binary.BigEndian.Uint64(b[:])%89_999_999))
}

func mustKey(t *testing.T, issuer rut.RUT, docType int, folio int64) dtekey.Key {
	t.Helper()
	k, err := dtekey.New(issuer.String(), docType, folio)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// cleanupPrefixes deletes what a test wrote under these prefixes.
func cleanupPrefixes(t *testing.T, s archive.Store, prefixes ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range prefixes {
			infos, err := s.List(ctx, p)
			if err != nil {
				t.Logf("cleanup %s: %v", p, err)
				continue
			}
			for _, i := range infos {
				if err := s.Delete(ctx, i.Key); err != nil {
					t.Logf("cleanup %s: %v", i.Key, err)
				}
			}
		}
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustRUT(t *testing.T, s string) rut.RUT {
	t.Helper()
	r, err := rut.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

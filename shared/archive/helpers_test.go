package archive_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/config"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// testBucket is the bucket of these tests on every server.
const testBucket = "dte-archive-test"

// Keys of the local servers (scripts/s3-server.sh, the functions' defaults),
// for the servers the tests start themselves.
var (
	defaultTestAccessKey = config.DefaultOf(config.S3{}, "S3_ACCESS_KEY")
	defaultTestSecretKey = config.DefaultOf(config.S3{}, "S3_SECRET_KEY")
)

// s3Server is a real S3 server's bucket the integration tests use.
type s3Server struct {
	archivetest.Target
	name string
}

// s3Servers are the real servers and bucket kinds every integration test
// runs on (archivetest.Targets). Each skips when its server is absent, and
// fails instead under CI=true.
func s3Servers() []s3Server {
	var out []s3Server
	for _, t := range archivetest.Targets() {
		out = append(out, s3Server{t, t.Name})
	}
	return out
}

// config requires the server, sets the bucket up and returns its
// configuration.
func (s s3Server) config(t *testing.T) archive.S3Config {
	t.Helper()
	return s.Bucket(t, testBucket)
}

// open is config as a store.
func (s s3Server) open(t *testing.T) *archive.S3 {
	t.Helper()
	st, err := archive.NewS3(s.config(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
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

// cleanupPrefixes deletes what a test wrote under these prefixes, every
// version of it on a versioned bucket.
func cleanupPrefixes(t *testing.T, s archive.Store, prefixes ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range prefixes {
			if vp, ok := s.(archive.VersionPurger); ok {
				if err := vp.PurgeVersions(ctx, p); err != nil {
					t.Logf("cleanup %s: %v", p, err)
				}
				continue
			}
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

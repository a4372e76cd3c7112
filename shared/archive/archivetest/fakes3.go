package archivetest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/dtecl/pipeline/shared/archive"
)

// Credentials gofakes3 accepts (it checks the signature's shape, not the keys).
const (
	FakeAccessKey = "fake-access-key"
	FakeSecretKey = "fake-secret-key"
)

// NewFakeS3 starts gofakes3 (in-memory backend) on an httptest server,
// creates bucket and returns the S3 store and its configuration (for code
// under test that builds its own store, e.g. from flags). The server stops
// when the test ends.
func NewFakeS3(t testing.TB, bucket string) (*archive.S3, archive.S3Config) {
	t.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	cfg := archive.S3Config{
		Endpoint:  srv.URL,
		Bucket:    bucket,
		AccessKey: FakeAccessKey,
		SecretKey: FakeSecretKey,
		Timeout:   10 * time.Second,
	}
	s, err := archive.NewS3(cfg)
	if err != nil {
		t.Fatalf("archivetest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatalf("archivetest: create bucket %s: %v", bucket, err)
	}
	return s, cfg
}

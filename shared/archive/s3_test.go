package archive_test

import (
	"errors"
	"testing"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
	"github.com/dtecl/pipeline/shared/errs"
)

func TestEnsureBucket(t *testing.T) {
	_, cfg := archivetest.NewFakeS3(t, "dte-first")
	cfg.Bucket = "dte-second"
	s, err := archive.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	_, err = s.List(ctx, "")
	if !errors.Is(err, archive.ErrConfig) || errs.IsPermanent(err) {
		t.Fatalf("List on a missing bucket = %v, want ErrConfig (transient)", err)
	}
	for i := range 2 { // idempotent
		if err := s.EnsureBucket(ctx); err != nil {
			t.Fatalf("EnsureBucket #%d: %v", i+1, err)
		}
	}
	if _, err := s.Put(ctx, "k", []byte("x"), archive.PutOptions{}); err != nil {
		t.Fatalf("Put after EnsureBucket: %v", err)
	}
}

func TestBadCredentials(t *testing.T) {
	for _, srv := range s3Servers()[:2] { // versitygw and MinIO
		t.Run(srv.name, func(t *testing.T) { badCredentials(t, srv) })
	}
}

func badCredentials(t *testing.T, srv s3Server) {
	srv.config(t) // the bucket exists
	tests := map[string]func(*archive.S3Config){
		"wrong secret":     func(c *archive.S3Config) { c.SecretKey += "-wrong" },
		"unknown key":      func(c *archive.S3Config) { c.AccessKey = "nobody" },
		"bucket elsewhere": func(c *archive.S3Config) { c.Bucket = "dte-never-created" },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := srv.Server.Config(srv.BucketName(testBucket))
			change(&cfg)
			s, err := archive.NewS3(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Get(testCtx(t), "state/x.json")
			if !errors.Is(err, archive.ErrConfig) || errs.IsPermanent(err) {
				t.Fatalf("Get = %v, want ErrConfig (transient)", err)
			}
		})
	}
}

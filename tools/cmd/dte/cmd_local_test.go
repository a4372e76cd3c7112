package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/archive"
)

// TestWhereArchived: `dte local` speaks of plain files only for this
// checkout's versitygw; anywhere else it points at an S3 client.
func TestWhereArchived(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join(localDataDir, "dte-archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  archive.S3Config
		want string
	}{
		{"this checkout's versitygw", archive.S3Config{Endpoint: defaultS3Endpoint, Bucket: "dte-archive"}, "plain files under .run/s3/data/dte-archive/"},
		{"MinIO", archive.S3Config{Endpoint: "http://127.0.0.1:7080", Bucket: "dte-archive"}, "bucket dte-archive at http://127.0.0.1:7080: browse it with any S3 client"},
		{"another bucket on the local port", archive.S3Config{Endpoint: defaultS3Endpoint, Bucket: "other"}, "bucket other at " + defaultS3Endpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := whereArchived(tt.cfg)
			if !strings.Contains(got, tt.want) {
				t.Fatalf("%q, want %q in it", got, tt.want)
			}
			if tt.cfg.Endpoint != defaultS3Endpoint && strings.Contains(got, "plain files") {
				t.Fatalf("claims plain files for %s: %q", tt.cfg.Endpoint, got)
			}
		})
	}
}

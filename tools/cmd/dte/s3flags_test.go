package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// archiveCLI is a gofakes3 archive for command tests: the store to seed
// and the environment that points the command at it.
type archiveCLI struct {
	store *archive.S3
	env   map[string]string
}

func newArchiveCLI(t *testing.T) archiveCLI {
	t.Helper()
	s, cfg := archivetest.NewFakeS3(t, defaultS3Bucket)
	return archiveCLI{store: s, env: map[string]string{
		"S3_ENDPOINT":   cfg.Endpoint,
		"S3_ACCESS_KEY": cfg.AccessKey,
		"S3_SECRET_KEY": cfg.SecretKey,
	}}
}

// runArchiveCmd runs `dte args...` with env as the whole environment and
// returns stdout, stderr and the exit code.
func runArchiveCmd(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := &cliEnv{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code := run(ctx, e, args)
	return out.String(), errb.String(), code
}

func TestS3FlagsResolution(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want archive.S3Config
	}{
		{
			name: "the local server by default",
			env:  map[string]string{},
			want: archive.S3Config{Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", Bucket: "dte-archive", AccessKey: "dtelocal", SecretKey: "dtelocal-secret-key", Timeout: archive.DefaultTimeout},
		},
		{
			name: "env",
			env:  map[string]string{"S3_ENDPOINT": "http://s3:9000", "S3_REGION": "sa-east-1", "S3_BUCKET": "b-1", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"},
			want: archive.S3Config{Endpoint: "http://s3:9000", Region: "sa-east-1", Bucket: "b-1", AccessKey: "a", SecretKey: "s", Timeout: archive.DefaultTimeout},
		},
		{
			name: "flags beat env",
			args: []string{"--s3-endpoint", "http://other:1", "--s3-bucket", "b-2", "--s3-access-key", "fa", "--s3-secret-key", "fs", "--s3-timeout", "3s"},
			env:  map[string]string{"S3_ENDPOINT": "http://s3:9000", "S3_BUCKET": "b-1", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"},
			want: archive.S3Config{Endpoint: "http://other:1", Region: "us-east-1", Bucket: "b-2", AccessKey: "fa", SecretKey: "fs", Timeout: 3 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			f := addS3Flags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got := f.config(&cliEnv{getenv: func(k string) string { return tt.env[k] }})
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestS3FlagsHelpHidesSecret(t *testing.T) {
	stdout, stderr, code := runArchiveCmd(t, map[string]string{"S3_SECRET_KEY": "very-secret"}, "status", "-h")
	if code != 0 || strings.Contains(stdout+stderr, "very-secret") || !strings.Contains(stdout, "-s3-secret-key") {
		t.Fatalf("code %d, help:\n%s%s", code, stdout, stderr)
	}
}

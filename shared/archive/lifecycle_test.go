package archive_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dtecl/pipeline/shared/archive/archivetest"
)

// lifecycleExample is the lifecycle rule set the README shows for _probe/,
// old state versions and old envelopes.
var lifecycleExample = filepath.Join("..", "..", "docs", "s3-lifecycle.json")

// TestLifecycleExample: the README's lifecycle rules are accepted by a real
// server on a versioned bucket, and read back with the prefixes the archive
// uses.
func TestLifecycleExample(t *testing.T) {
	raw, err := os.ReadFile(lifecycleExample)
	if err != nil {
		t.Fatal(err)
	}
	var cfg types.BucketLifecycleConfiguration
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("%s: %v", lifecycleExample, err)
	}
	want := map[string]string{"probe-scratch": "_probe/", "probe-delete-markers": "_probe/", "old-state-versions": "state/", "old-envelopes": "envio/"}
	if len(cfg.Rules) != len(want) {
		t.Fatalf("%s has %d rules, want %d", lifecycleExample, len(cfg.Rules), len(want))
	}
	target := archivetest.Target{Name: "minio-lifecycle", Server: archivetest.MinIO(), Kind: archivetest.BucketKind{Versioned: true}}
	bucket := target.Bucket(t, testBucket+"-lifecycle")
	client := archivetest.Client(bucket)
	ctx := testCtx(t)
	if _, err := client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &bucket.Bucket, LifecycleConfiguration: &cfg,
	}); err != nil {
		t.Fatalf("the server refuses %s: %v", lifecycleExample, err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: &bucket.Bucket})
	})
	got, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &bucket.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got.Rules {
		id, prefix := aws.ToString(r.ID), ""
		if r.Filter != nil {
			prefix = aws.ToString(r.Filter.Prefix)
		}
		if want[id] != prefix || r.Status != types.ExpirationStatusEnabled {
			t.Errorf("rule %s: prefix %q, status %s; want %q, enabled", id, prefix, r.Status, want[id])
		}
		delete(want, id)
	}
	if len(want) != 0 {
		t.Errorf("rules not stored: %v", want)
	}
}

package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func TestBaseImage(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n")
	img, err := baseImage(ca, "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	again, err := baseImage(ca, "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("not reproducible: %s then %s", d1, d2)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Config.User != "65532:65532" {
		t.Errorf("config: os %s arch %s user %q", cf.OS, cf.Architecture, cf.Config.User)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		contents[h.Name], _ = io.ReadAll(tr)
	}
	tests := []struct {
		name string
		mode int64
	}{
		{"etc/ssl/certs/ca-certificates.crt", 0o644},
		{"etc/passwd", 0o644},
		{"tmp/", 0o1777},
		{"home/nonroot/", 0o700},
	}
	for _, tt := range tests {
		h, ok := files[tt.name]
		if !ok {
			t.Errorf("%s missing from the layer", tt.name)
			continue
		}
		if h.Mode != tt.mode {
			t.Errorf("%s: mode %o, want %o", tt.name, h.Mode, tt.mode)
		}
	}
	if !bytes.Equal(contents["etc/ssl/certs/ca-certificates.crt"], ca) {
		t.Error("the CA bundle in the layer differs from the input")
	}
	if !strings.Contains(string(contents["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd lacks the nonroot user:\n%s", contents["etc/passwd"])
	}
	if _, err := baseImage(ca, "linux"); err == nil {
		t.Error("platform without an architecture accepted")
	}
}

func TestBaseAndSize(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	var refs []string
	for range 2 {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"base", "-cache", cache, "-ca", ca, "-ref", "example.invalid/x/base"}, &out, &errb); code != 0 {
			t.Fatalf("base: exit %d: %s", code, errb.String())
		}
		refs = append(refs, strings.TrimSpace(out.String()))
	}
	if refs[0] != refs[1] || !strings.HasPrefix(refs[0], "example.invalid/x/base@sha256:") {
		t.Fatalf("references %q", refs)
	}
	p, err := layout.FromPath(filepath.Join(cache, "img"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || "example.invalid/x/base@"+m.Manifests[0].Digest.String() != refs[0] {
		t.Fatalf("cache index lists %d images: %+v", len(m.Manifests), m.Manifests)
	}
	tests := []struct {
		name string
		max  string
		code int
	}{
		{"under the limit", "25000000", 0},
		{"over the limit", "100", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"size", "-max", tt.max, filepath.Join(cache, "img")}, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s%s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "MB compressed") {
				t.Errorf("no size reported: %q", out.String())
			}
		})
	}
}

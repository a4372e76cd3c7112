package main

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonroot is the user the images run as (distroless's "nonroot").
const nonroot = 65532

// epoch is the timestamp of every file and of the image, for a reproducible digest.
var epoch = time.Unix(0, 0).UTC()

// baseOptions are the flags of `kobase base`.
type baseOptions struct {
	cache    string // ko's cache dir; the image goes into cache/img
	ref      string // repository the printed reference names
	ca       string // CA bundle to copy to /etc/ssl/certs/ca-certificates.crt
	platform string // os/arch of the image config
}

func runBase(_ context.Context, args []string, stdout, stderr io.Writer) error {
	o := baseOptions{}
	fs := flag.NewFlagSet("kobase base", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cache, "cache", os.Getenv("KOCACHE"), "ko's cache directory (env KOCACHE); the image is written to its img/ OCI layout")
	fs.StringVar(&o.ref, "ref", "example.invalid/dte/base", "repository named by the printed reference (never pulled: ko finds the digest in the cache)")
	fs.StringVar(&o.ca, "ca", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to put in the image")
	fs.StringVar(&o.platform, "platform", "linux/amd64", "os/arch of the image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.cache == "" {
		return fmt.Errorf("no cache directory: set KOCACHE or -cache")
	}
	repo, err := name.NewRepository(o.ref)
	if err != nil {
		return fmt.Errorf("-ref %q: %w", o.ref, err)
	}
	ca, err := os.ReadFile(o.ca)
	if err != nil {
		return fmt.Errorf("read the CA bundle: %w", err)
	}
	img, err := baseImage(ca, o.platform)
	if err != nil {
		return err
	}
	digest, err := writeToCache(filepath.Join(o.cache, "img"), img)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, repo.Digest(digest.String()).String())
	return err
}

// baseImage builds the base image: one layer with the CA bundle, the
// nonroot user and /tmp; config for platform, running as nonroot.
func baseImage(ca []byte, platform string) (v1.Image, error) {
	osName, arch, ok := strings.Cut(platform, "/")
	if !ok || osName == "" || arch == "" {
		return nil, fmt.Errorf("platform %q: want os/arch, e.g. linux/amd64", platform)
	}
	layerTar, err := rootfs(ca)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, fmt.Errorf("base image: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = osName, arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config.User = fmt.Sprintf("%d:%d", nonroot, nonroot)
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("base config: %w", err)
	}
	return img, nil
}

// rootfs is the tar of the base layer, with fixed owners and times.
func rootfs(ca []byte) ([]byte, error) {
	type entry struct {
		name string
		mode int64
		uid  int
		body []byte
		dir  bool
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot, nonroot)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", nonroot)
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: ca},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: epoch,
			Typeflag: tar.TypeReg, Size: int64(len(e.body)), Format: tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	return buf.Bytes(), nil
}

// writeToCache adds img to the OCI layout at dir (creating it), unless an
// image with its digest is already there, and returns the digest.
func writeToCache(dir string, img v1.Image) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("base digest: %w", err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return v1.Hash{}, fmt.Errorf("create the OCI layout %s: %w", dir, err)
		}
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read the OCI layout %s: %w", dir, err)
	}
	found, err := partial.FindManifests(idx, match.Digests(digest))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read the OCI layout %s: %w", dir, err)
	}
	if len(found) > 0 {
		return digest, nil
	}
	if err := p.AppendImage(img); err != nil {
		return v1.Hash{}, fmt.Errorf("write the base image to %s: %w", dir, err)
	}
	return digest, nil
}

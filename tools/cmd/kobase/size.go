package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// imageSize is what `kobase size` reports about one image.
type imageSize struct {
	Ref          string // the image's ref name annotation, or its digest
	Digest       v1.Hash
	Compressed   int64 // manifest, config and compressed layers: what a node pulls
	Uncompressed int64 // config and uncompressed layers: what a node unpacks
	Layers       int
}

func runSize(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kobase size", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxBytes := fs.Int64("max", 25_000_000, "fail when an image, compressed or not, is larger than this many bytes (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("name at least one OCI layout directory")
	}
	var tooBig []string
	for _, dir := range fs.Args() {
		sizes, err := layoutSizes(dir)
		if err != nil {
			return err
		}
		if len(sizes) == 0 {
			return fmt.Errorf("%s holds no image", dir)
		}
		for _, s := range sizes {
			fmt.Fprintf(stdout, "%-28s %s  %d layers  %6.2f MB compressed  %6.2f MB uncompressed\n",
				dir, s.Digest.Hex[:12], s.Layers, mb(s.Compressed), mb(s.Uncompressed))
			if *maxBytes > 0 && max(s.Compressed, s.Uncompressed) > *maxBytes {
				tooBig = append(tooBig, fmt.Sprintf("%s (%.2f MB)", dir, mb(max(s.Compressed, s.Uncompressed))))
			}
		}
	}
	if len(tooBig) > 0 {
		return fmt.Errorf("larger than %.2f MB: %s", mb(*maxBytes), strings.Join(tooBig, ", "))
	}
	return nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// layoutSizes measures every image (or every image of every index) that the
// OCI layout at dir lists.
func layoutSizes(dir string) ([]imageSize, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("open the OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read the OCI layout %s: %w", dir, err)
	}
	return indexSizes(idx)
}

func indexSizes(idx v1.ImageIndex) ([]imageSize, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	var out []imageSize
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("read index %s: %w", d.Digest, err)
			}
			s, err := indexSizes(child)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("read image %s: %w", d.Digest, err)
			}
			s, err := sizeOf(img)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", d.Digest, err)
			}
			s.Ref = d.Annotations["org.opencontainers.image.ref.name"]
			out = append(out, s)
		}
	}
	return out, nil
}

func sizeOf(img v1.Image) (imageSize, error) {
	var s imageSize
	var err error
	if s.Digest, err = img.Digest(); err != nil {
		return s, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return s, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return s, err
	}
	s.Compressed = int64(len(raw) + len(cfg))
	s.Uncompressed = int64(len(cfg))
	layers, err := img.Layers()
	if err != nil {
		return s, err
	}
	s.Layers = len(layers)
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return s, err
		}
		s.Compressed += n
		u, err := uncompressedSize(l)
		if err != nil {
			return s, err
		}
		s.Uncompressed += u
	}
	return s, nil
}

// uncompressedSize reads the layer through to count its bytes: a layout does
// not record them.
func uncompressedSize(l v1.Layer) (int64, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return 0, fmt.Errorf("read layer: %w", err)
	}
	return n, nil
}

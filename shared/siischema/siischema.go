// Package siischema carries the SII's official XML schemas (XSD) inside the
// binaries that need them, so that a program validates documents the same
// way from any folder. The files and their provenance are in xsd/ (see
// xsd/SOURCES.md).
package siischema

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// The entry points of the schema set, by the document they validate.
const (
	DTE         = "DTE_v10.xsd"         // a DTE on its own
	EnvioDTE    = "EnvioDTE_v10.xsd"    // an EnvioDTE (the SII upload)
	EnvioBOLETA = "EnvioBOLETA_v11.xsd" // an EnvioBOLETA
)

//go:embed xsd/*.xsd
var files embed.FS

// FS is the schema set: every file at its base name (DTE_v10.xsd,
// EnvioDTE_v10.xsd, SiiTypes_v10.xsd, xmldsignature_v10.xsd, …).
func FS() fs.FS {
	sub, err := fs.Sub(files, "xsd")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Names lists the schema files, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(FS(), ".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// Dir returns a folder holding the schema set as files, for tools that read
// schemas from disk (xmllint, xmlsec1, libxml2): the schemas include and
// import each other by relative file name. The folder is named after the
// content and created once under the system's temporary folder; later
// calls, from any process, reuse it. Each file is written to a temporary
// name and renamed, so a concurrent reader never sees half a file.
func Dir() (string, error) {
	h := sha256.New()
	for _, n := range Names() {
		b, err := fs.ReadFile(FS(), n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	dir := filepath.Join(os.TempDir(), "dte-siischema-"+hex.EncodeToString(h.Sum(nil)[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("siischema: %w", err)
	}
	for _, n := range Names() {
		if err := writeOnce(dir, n); err != nil {
			return "", fmt.Errorf("siischema: %w", err)
		}
	}
	return dir, nil
}

// Path returns the path of one schema file inside Dir.
func Path(name string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if _, err := fs.Stat(FS(), name); err != nil {
		return "", fmt.Errorf("siischema: no schema %q", name)
	}
	return filepath.Join(dir, name), nil
}

func writeOnce(dir, name string) error {
	want, err := fs.ReadFile(FS(), name)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if got, err := os.ReadFile(path); err == nil && string(got) == string(want) {
		return nil
	}
	tmp, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(want); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/archive"
)

// The SII sample files, from this package's directory (repo root is ../../..).
var (
	sampleCAF     = filepath.Join("..", "..", "..", "testdata", "sii", "caf", "FoliosSII7623529133120254111137.xml")
	sampleCAFKeys = filepath.Join("..", "..", "..", "testdata", "sii", "sii-caf-keys")
)

const sampleCAFKey = "caf/76235291-5/33/1-20.xml"

func readSample(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sample file: %v", err)
	}
	return b
}

// writeVariant writes the sample CAF with one change into a temp file.
func writeVariant(t *testing.T, name string, change func([]byte) []byte) string {
	t.Helper()
	orig := readSample(t, sampleCAF)
	b := change(bytes.Clone(orig))
	if bytes.Equal(b, orig) {
		t.Fatalf("variant %s changes nothing", name)
	}
	path := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCAFAdd(t *testing.T) {
	tampered := writeVariant(t, "tampered", func(b []byte) []byte {
		return bytes.Replace(b, []byte("<H>20</H>"), []byte("<H>2000</H>"), 1)
	})
	noKey := writeVariant(t, "nokey", func(b []byte) []byte {
		return regexp.MustCompile(`(?s)<RSASK>.*</RSAPUBK>`).ReplaceAll(b, nil)
	})
	notCAF := writeVariant(t, "notcaf", func([]byte) []byte { return []byte("<DTE/>") })
	unknownIDK := writeVariant(t, "unknown-idk", func(b []byte) []byte {
		return bytes.Replace(b, []byte("<IDK>100</IDK>"), []byte("<IDK>999</IDK>"), 1)
	})

	tests := []struct {
		name       string
		args       []string
		keys       string // SII_CAF_KEYS
		wantCode   int
		wantOut    string
		wantErr    string
		wantStored bool
	}{
		{"verified", []string{"caf", "add", sampleCAF}, sampleCAFKeys, 0, "added         " + sampleCAFKey + "  CAF 76235291-5 type 33 folios 1-20 (FA 2025-04-11, IDK 100)", "expired on 2025-10-11", true},
		{"keys by flag", []string{"caf", "add", "--sii-keys", sampleCAFKeys, sampleCAF}, "", 0, "added", "", true},
		{"altered after signing", []string{"caf", "add", tampered}, sampleCAFKeys, 1, "", "rejected " + tampered + ": not a CAF the SII signed, or altered since", false},
		{"one bad file stores nothing", []string{"caf", "add", sampleCAF, tampered}, sampleCAFKeys, 1, "", "1 of 2 CAF files rejected; nothing stored", false},
		{"without its private key", []string{"caf", "add", noKey}, sampleCAFKeys, 1, "", "no private key", false},
		{"not a CAF", []string{"caf", "add", notCAF}, sampleCAFKeys, 1, "", "not a CAF file", false},
		{"no SII key for its IDK", []string{"caf", "add", unknownIDK}, "", 1, "", "no SII key for the CAF's IDK 999", false},
		{"built-in keys by default", []string{"caf", "add", sampleCAF}, "", 0, "added", "", true},
		{"missing file", []string{"caf", "add", "nope.xml"}, sampleCAFKeys, 1, "", "rejected nope.xml", false},
		{"no keys directory", []string{"caf", "add", sampleCAF}, filepath.Join(t.TempDir(), "none"), 1, "", "--sii-keys ", false},
		{"no files", []string{"caf", "add"}, sampleCAFKeys, 2, "", "want at least one CAF file", false},
		{"no subcommand", []string{"caf"}, sampleCAFKeys, 2, "", "want a subcommand", false},
		{"unknown subcommand", []string{"caf", "remove"}, sampleCAFKeys, 2, "", "unknown subcommand \"remove\"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arc := newArchiveCLI(t)
			arc.env["SII_CAF_KEYS"] = tt.keys
			stdout, stderr, code := runArchiveCmd(t, arc.env, tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout ~ %q, stderr ~ %q", code, tt.wantCode, stdout, stderr, tt.wantOut, tt.wantErr)
			}
			infos, err := arc.store.List(context.Background(), archive.PrefixCAF)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStored != (len(infos) == 1) || len(infos) > 1 {
				t.Fatalf("stored %v, want stored=%v", infos, tt.wantStored)
			}
			if tt.wantStored {
				obj, err := arc.store.Get(context.Background(), sampleCAFKey)
				if err != nil || !bytes.Equal(obj.Body, readSample(t, sampleCAF)) {
					t.Fatalf("stored CAF is not the file byte for byte (%v)", err)
				}
			}
		})
	}
}

func TestCAFAddTwice(t *testing.T) {
	arc := newArchiveCLI(t)
	arc.env["SII_CAF_KEYS"] = sampleCAFKeys
	for i, want := range []string{"added", "already there"} {
		stdout, stderr, code := runArchiveCmd(t, arc.env, "caf", "add", sampleCAF)
		if code != 0 || !strings.HasPrefix(stdout, want+" ") {
			t.Fatalf("add #%d: exit %d, stdout %q, stderr %s", i+1, code, stdout, stderr)
		}
	}
}

func TestCAFList(t *testing.T) {
	arc := newArchiveCLI(t)
	arc.env["SII_CAF_KEYS"] = sampleCAFKeys
	if _, stderr, code := runArchiveCmd(t, arc.env, "caf", "add", sampleCAF); code != 0 {
		t.Fatalf("caf add: %s", stderr)
	}
	// An object under a CAF key that is not a CAF (e.g. put there by hand).
	if _, err := arc.store.Put(context.Background(), "caf/76086428-5/61/1-10.xml", []byte("not xml"), archive.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		golden   string // file under testdata/TestCAFList, or ""
		wantOut  string
		wantErr  string
	}{
		{"all, ten days before expiry", []string{"caf", "list", "--at", "2025-10-01"}, 0, "all.golden", "", ""},
		{"one issuer, expired", []string{"caf", "list", "--at", "2025-10-11", "76235291-5"}, 0, "", "76235291-5  33    1-20    2025-04-11  100  2025-10-11  EXPIRED; certification\n", ""},
		{"fresh", []string{"caf", "list", "--at", "2025-05-01", "76235291-5"}, 0, "", "2025-10-11  certification\n", ""},
		{"issuer without CAFs", []string{"caf", "list", "60803000-K"}, 0, "", "", "no CAFs for 60803000-K in the archive"},
		{"bad RUT", []string{"caf", "list", "76235291-4"}, 2, "", "", "check digit"},
		{"bad date", []string{"caf", "list", "--at", "11/10/2025"}, 2, "", "", "want YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runArchiveCmd(t, arc.env, tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if tt.golden == "" {
				return
			}
			path := filepath.Join("testdata", "TestCAFList", tt.golden)
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if stdout != string(want) {
				t.Fatalf("output differs from %s:\n%s", path, stdout)
			}
		})
	}
}

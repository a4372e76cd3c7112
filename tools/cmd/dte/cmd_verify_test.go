package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/dte"
	"github.com/dtecl/pipeline/tools/xsd"
)

// strictOptions are a full verification's options: the SII's keys and
// those in dir, the SII's schemas in process.
func strictOptions(t *testing.T, dir string) dte.VerifyOptions {
	t.Helper()
	keys, err := caf.SIIKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := xsd.NewSII()
	if err != nil {
		t.Fatal(err)
	}
	return dte.VerifyOptions{Keys: keys, Schema: schema}
}

// TestVerifyCommand runs dte verify on the SII's samples and compares its
// report with testdata/verify/*.golden (rewrite with -update).
func TestVerifyCommand(t *testing.T) {
	keys := siiCAFKeys
	tests := []struct {
		name   string
		file   string
		code   int
		expect []string
	}{
		{"real", "real-dte/DTE--76354771-K--33--170--cleaned.xml", 0,
			[]string{"signature    ok", "TED          ok", "CAF          ok", "result: valid"}},
		{"real-changed", "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml", 1,
			[]string{"signature    FAILED   digest-mismatch", "TED          FAILED   ted-signature", "result: INVALID"}},
		{"official", "sii-official/F60T33-ejemplo-oficial-SII.xml", 1,
			[]string{"EnvioDTE SetDoc", "caratula     ok", "key-mismatch", "without the SiiDte namespace", "TED          ok"}},
		{"caf", "caf/FoliosSII7623529133120254111137.xml", 1, []string{"not-dte"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runDTE(t, nil, "verify", "--sii-keys", keys, filepath.Join(siiSamples, tt.file))
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for _, e := range tt.expect {
				if !strings.Contains(stdout, e) {
					t.Errorf("report lacks %q", e)
				}
			}
			golden := filepath.Join("testdata", "verify", tt.name+".golden")
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if stdout != string(want) {
				t.Errorf("report differs from %s:\n%s", golden, stdout)
			}
		})
	}
}

func TestVerifyCommandJSON(t *testing.T) {
	stdout, _, code := runDTE(t, nil, "verify", "--json", "--sii-keys", siiCAFKeys,
		filepath.Join(siiSamples, "real-dte/DTE--76354771-K--33--170--cleaned-mod-changed-monto.xml"))
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r struct {
		Valid     bool `json:"valid"`
		Documents []struct {
			Signature struct {
				Status string `json:"status"`
				Code   string `json:"code"`
			} `json:"signature"`
		} `json:"documents"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if r.Valid || r.Documents[0].Signature.Status != "failed" || r.Documents[0].Signature.Code != "digest-mismatch" {
		t.Errorf("%s", stdout)
	}
}

func TestVerifyCommandUsage(t *testing.T) {
	if _, _, code := runDTE(t, nil, "verify"); code != 2 {
		t.Errorf("no files: exit %d", code)
	}
	if _, stderr, code := runDTE(t, nil, "verify", "no-such-file.xml"); code != 1 || !strings.Contains(stderr, "no-such-file.xml") {
		t.Errorf("missing file: exit %d %s", code, stderr)
	}
}

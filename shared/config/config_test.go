package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "s")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := FromMap(map[string]string{
		"PORT": "9090", "BAD_INT": "x", "TIMEOUT": "3s", "BAD_DUR": "3", "FLAG": "true",
		"S_FILE": secretFile, "T": "inline", "EMPTY": "  ",
	})
	if got := e.Int("PORT", 8080); got != 9090 {
		t.Errorf("Int = %d", got)
	}
	if got := e.Duration("TIMEOUT", time.Second); got != 3*time.Second {
		t.Errorf("Duration = %s", got)
	}
	if !e.Bool("FLAG", false) || e.Bool("NOPE", false) {
		t.Error("Bool")
	}
	if got := e.String("EMPTY", "def"); got != "def" {
		t.Errorf("blank variable should count as unset, got %q", got)
	}
	if v, ok := e.Secret("S", "d"); v != "from-file" || !ok {
		t.Errorf("Secret from file = %q %v", v, ok)
	}
	if v, ok := e.Secret("T", "d"); v != "inline" || !ok {
		t.Errorf("Secret inline = %q %v", v, ok)
	}
	if v, ok := e.Secret("U", "d"); v != "d" || ok {
		t.Errorf("Secret default = %q %v", v, ok)
	}
	if e.Err() != nil {
		t.Fatalf("unexpected problems: %v", e.Err())
	}
	e.Int("BAD_INT", 1)
	e.Duration("BAD_DUR", time.Second)
	e.Required("MISSING")
	err := e.Err()
	if err == nil {
		t.Fatal("problems were not reported")
	}
	for _, want := range []string{"BAD_INT", "BAD_DUR", "MISSING is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

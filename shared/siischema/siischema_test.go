package siischema

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSetIsComplete(t *testing.T) {
	want := []string{"DTE_v10.xsd", "EnvioBOLETA_v11.xsd", "EnvioDTE_v10.xsd", "RespSII_v10.xsd",
		"RespuestaEnvioDTE_v10.xsd", "SiiTypes_v10.xsd", "xmldsignature_v10.xsd"}
	got := Names()
	if len(got) != len(want) {
		t.Fatalf("schemas %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("schemas %v, want %v", got, want)
		}
	}
}

func TestDirWritesEveryFileOnceAndReusesIt(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range Names() {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatalf("%s is empty", n)
		}
	}
	// A damaged copy is repaired on the next call.
	if err := os.WriteFile(filepath.Join(dir, EnvioDTE), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := Dir()
	if err != nil || again != dir {
		t.Fatalf("Dir() = %q, %v; want %q", again, err, dir)
	}
	p, err := Path(EnvioDTE)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); len(b) < 100 {
		t.Fatalf("%s was not rewritten", p)
	}
	if _, err := Path("nope.xsd"); err == nil {
		t.Fatal("Path of an unknown schema: no error")
	}
}

package caf

import (
	"os"
	"testing"
)

func TestBuiltinKeysVerifyTheSampleCAF(t *testing.T) {
	keys, err := SIIKeys("")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys.IDKs(); len(got) != 2 {
		t.Fatalf("IDKs %v, want 100 and 300", got)
	}
	raw, err := os.ReadFile("../../testdata/sii/caf/FoliosSII7623529133120254111137.xml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifySII(keys); err != nil {
		t.Fatalf("the real certification CAF does not verify with the built-in IDK 100 key: %v", err)
	}
	if _, err := SIIKeys(t.TempDir()); err == nil {
		t.Fatal("an empty key directory was accepted")
	}
}

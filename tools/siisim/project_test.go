package siisim

import (
	"os"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/caf"
)

const officialSample = samplesDir + "/sii-official/F60T33-ejemplo-oficial-SII.xml"

func siiKeys(t testing.TB) *caf.Keys {
	t.Helper()
	k, err := caf.LoadKeys(siiCAFKeys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestProjectInspectorOfficialSample(t *testing.T) {
	b, err := os.ReadFile(officialSample)
	if err != nil {
		t.Fatal(err)
	}
	env, err := NewProjectInspector(siiKeys(t), schemas(t)).InspectEnvio(b)
	if err != nil {
		t.Fatal(err)
	}
	if env.RutEmisor != "97975000-5" || env.RutEnvia != "7880442-4" || env.RutReceptor != "60803000-K" || env.SubTotals[33] != 1 {
		t.Errorf("caratula %+v", env)
	}
	// The SII's example is synthetic: both signatures verify with their
	// KeyValue (the SetDTE in place, the DTE with no namespace in scope)
	// but the X509Certificate beside it holds another key. The simulator,
	// like the SII's getToken (ESTADO 21), does not accept that.
	if env.SetSignature.OK || !strings.Contains(env.SetSignature.Detail, "key-mismatch") {
		t.Errorf("SetDTE signature: %+v, want the sample's key mismatch", env.SetSignature)
	}
	if len(env.Documents) != 1 {
		t.Fatalf("documents %d", len(env.Documents))
	}
	d := env.Documents[0]
	if d.Type != 33 || d.Folio != 60 || d.Issuer != "97975000-5" || d.Receiver != "77777777-7" || d.IssueDate != "2003-10-13" || d.Total != 119000 {
		t.Errorf("document %+v", d)
	}
	if d.Signature.OK || !strings.Contains(d.Signature.Detail, "key-mismatch") {
		t.Errorf("DTE signature: %+v, want the sample's key mismatch (its digest verifies with no namespace)", d.Signature)
	}
	for name, c := range map[string]Check{"TED": d.TED, "CAF": d.CAF} {
		if !c.OK {
			t.Errorf("%s: %s", name, c.Detail)
		}
	}
}

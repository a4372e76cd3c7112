package request

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// onePassSeeds are bodies on either side of every give-up of readObject.
var onePassSeeds = []string{
	`{}`, ` {"a" : [1, -0, 0.5, 1e3, -2E-2, true, false, null, "x"]} `,
	`{"a":"ñandú \u00e9\n\"q\" \ud83d\ude00"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", "{\"a\":\"\x01\"}",
	`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":1,"c":2}]}}`, `[]`, `null`, `1`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
	`{"a":tru}`, `{"a":truex}`, `{"a":1}x`, `{"a":1} {}`, `{"a":[1,]}`, `{"a":1,}`, `{,}`, `{"a"1}`,
	`{"a":"x`, `{"a":"\`, `{"a":1e400}`, `{"":1,"":2}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
}

// checkOnePass fails when readObject accepts a body that the general path
// (jsonschema.UnmarshalJSON, then duplicateKey) refuses or reads
// differently, or when toRequest fills a Request that encoding/json would
// fill differently.
func checkOnePass(t *testing.T, body []byte) {
	t.Helper()
	m, ok := readObject(body)
	if !ok {
		return
	}
	want, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%q: read in one pass, but not valid JSON: %v", body, err)
	}
	if _, found, err := duplicateKey(body); found || err != nil {
		t.Fatalf("%q: read in one pass, but duplicateKey says %v %v", body, found, err)
	}
	if !reflect.DeepEqual(map[string]any(m), want) {
		t.Fatalf("%q: read in one pass as %#v, encoding/json reads %#v", body, m, want)
	}
	req, ok := toRequest(m)
	if !ok {
		return
	}
	var dec Request
	if err := json.Unmarshal(body, &dec); err != nil {
		t.Fatalf("%q: converted, but encoding/json cannot decode it: %v", body, err)
	}
	got, _ := json.Marshal(req)
	exp, _ := json.Marshal(&dec)
	if !bytes.Equal(got, exp) {
		t.Fatalf("%q: converted to\n%s\nencoding/json decodes\n%s", body, got, exp)
	}
}

func TestOnePassReadsAsEncodingJSON(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", samplesDir, err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := readObject(body)
		if !ok {
			t.Fatalf("%s: not read in one pass", f)
		}
		if _, ok := toRequest(m); !ok {
			t.Fatalf("%s: not converted without encoding/json", f)
		}
		checkOnePass(t, body)
	}
	for _, s := range onePassSeeds {
		checkOnePass(t, []byte(s))
	}
	for _, s := range []string{`{"a":1,"a":2}`, `[]`, `{"a":1} {}`, `{"a":01}`, "{\"a\":\"\x01\"}",
		`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`} {
		if _, ok := readObject([]byte(s)); ok {
			t.Errorf("%q was read in one pass; the general path must name its problem", s)
		}
	}
}

// FuzzOnePass: whatever readObject and toRequest accept, they read exactly
// as the general path does.
func FuzzOnePass(f *testing.F) {
	for _, s := range onePassSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{"factura-33.json", "nota-credito-61.json", "guia-despacho-52.json"} {
		b, err := os.ReadFile(filepath.Join(samplesDir, s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkOnePass(t, body) })
}

// BenchmarkParse is the validation of one request, as enqueue and sign run
// it: one sample of each document type.
//
//	go test -run '^$' -bench Parse -benchmem ./shared/request/
func BenchmarkParse(b *testing.B) {
	v := newValidator(b)
	for _, name := range []string{"factura-33.json", "guia-despacho-52.json", "nota-credito-61.json"} {
		body, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package request

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestBodiesThatAreNotOneRequest: a body with a key twice, or one that is
// not an object, gets one violation that says what is wrong, not a list
// of fields that seem to be missing.
func TestBodiesThatAreNotOneRequest(t *testing.T) {
	sample, err := os.ReadFile(samplesDir + "/factura-33.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	twice := strings.Replace(string(sample), `"folio": 1042`, `"folio": 1042, "folio": 2`, 1)
	if twice == string(sample) {
		t.Fatal("the sample has no \"folio\": 1042 to repeat")
	}
	tests := []struct {
		name, body, field, rule, says string
	}{
		{"a key twice", twice, "document.folio", "duplicate-key", `"folio" appears twice`},
		{"a key twice in a line", `{"lines":[{"name":"a"},{"name":"b","name":"c"}]}`, "lines[1].name", "duplicate-key", `"name" appears twice`},
		{"a key twice at the top", `{"odoo":{},"odoo":{}}`, "odoo", "duplicate-key", `"odoo" appears twice`},
		{"null", `null`, "(request)", "type", "must be a JSON object, got null"},
		{"an array", `[{}]`, "(request)", "type", "got an array"},
		{"a number", ` 7 `, "(request)", "type", "got a number"},
		{"nested too deep", `{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "(request)", "json-depth", "nested more than 32 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Parse([]byte(tt.body))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a violation list: %v", err)
			}
			if len(ve.Violations) != 1 {
				t.Fatalf("%d violations, want one: %+v", len(ve.Violations), ve.Violations)
			}
			got := ve.Violations[0]
			if got.Field != tt.field || got.Rule != tt.rule || !strings.Contains(got.Message, tt.says) {
				t.Fatalf("violation %+v, want field %q rule %q saying %q", got, tt.field, tt.rule, tt.says)
			}
		})
	}
	// The same keys in different objects are not duplicates.
	if _, err := v.Parse(sample); err != nil {
		t.Fatalf("the sample: %v", err)
	}
}

// FuzzDuplicateKey: on any valid JSON the walk ends without a panic, and
// it finds a duplicate exactly when decoding the body into maps loses a
// key (fewer keys decoded than written).
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":1,"c":2}]}}`, `[]`, `null`, `{"a":[[[]]],"b":"a"}`, `{"":1,"":2}`, `{"a":1,"b":{"a":2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		dup, found, err := duplicateKey(body)
		if err != nil {
			if !errors.Is(err, errTooDeep) {
				t.Fatalf("valid JSON %q: %v", body, err)
			}
			return
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber() // 1E700 is valid JSON, not a float64
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if lost := writtenKeys(t, body) != decodedKeys(v); lost != found {
			t.Fatalf("%q: duplicate %q, but keys lost in decoding: %v", body, dup, lost)
		}
	})
}

// writtenKeys counts the object keys as written in body.
func writtenKeys(t *testing.T, body []byte) int {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	type frame struct{ object, wantKey bool }
	var stack []frame
	n := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].wantKey = true // this value ends; a key comes next
				}
				stack = append(stack, frame{object: d == '{', wantKey: d == '{'})
			default:
				stack = stack[:top]
			}
			continue
		}
		if top >= 0 && stack[top].object {
			if stack[top].wantKey {
				n++
			}
			stack[top].wantKey = !stack[top].wantKey
		}
	}
}

// decodedKeys counts the keys of every object in a decoded value.
func decodedKeys(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := len(x)
		for _, e := range x {
			n += decodedKeys(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += decodedKeys(e)
		}
		return n
	}
	return 0
}

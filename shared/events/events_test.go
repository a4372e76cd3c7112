package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/dtekey"
)

func TestStructuredRoundTrip(t *testing.T) {
	k, _ := dtekey.Parse("76086428-5-33-1042")
	body := []byte("{\n  \"document\": {\"type\": 33, \"folio\": 1042},\n  \"note\": \"Ñandú <&>\"\n}")
	e, err := New(ID(k, "requested", "x"), TypeRequested, SourceEnqueue, k, body)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(wire), "data_base64") || !strings.Contains(string(wire), `"data":{`) {
		t.Fatalf("the request is not carried as JSON data: %s", wire)
	}
	back, err := Unmarshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	// On the wire the data is compacted; it must still be the same JSON.
	var want, got any
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(back.Data(), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("data changed: %s (%v)", back.Data(), err)
	}
	if got, err := Key(back); err != nil || got != k || back.Subject() != k.String() || back.Type() != TypeRequested {
		t.Fatalf("key %v %v subject %s type %s", got, err, back.Subject(), back.Type())
	}
	if _, err := New("x", TypeRequested, SourceEnqueue, k, []byte("not json")); err == nil {
		t.Fatal("non-JSON data was accepted")
	}
	d, err := Decode[Signed](mustNew(t, k, Signed{DTEKey: k.String(), Total: 7}))
	if err != nil || d.Total != 7 {
		t.Fatalf("decode %+v %v", d, err)
	}
}

func mustNew(t *testing.T, k dtekey.Key, data any) Event {
	t.Helper()
	e, err := New("id", TypeSigned, SourceSign, k, data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

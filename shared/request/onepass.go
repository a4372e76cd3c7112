package request

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The common case, a well-formed request, is read once: readObject parses
// the body into the generic value the schema validates (what
// jsonschema.UnmarshalJSON makes: maps, slices, json.Number), checking on
// the way that no key repeats and nothing nests too deeply, and toRequest
// fills the typed Request from that value without reading the body again.
// Both give up (ok false) on anything unusual; Parse then takes the
// general path, which reads the body as often as it needs to name the
// problem exactly. They only ever have to be right when they say ok.

// readObject parses body, which must be one JSON object with unique keys
// in each object and containers nested less than maxDepth deep.
func readObject(body []byte) (map[string]any, bool) {
	p := onePass{b: body}
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return nil, false
	}
	v, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	if p.i != len(p.b) {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

type onePass struct {
	b []byte
	i int
}

func (p *onePass) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads the value at p.i; depth is the number of containers around it.
func (p *onePass) value(depth int) (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, false
		}
		return p.object(depth)
	case c == '[':
		if depth >= maxDepth {
			return nil, false
		}
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

func (p *onePass) object(depth int) (any, bool) {
	p.i++ // {
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, true
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[key] = v
		if more, ok := p.next('}'); !ok || !more {
			return m, ok
		}
	}
}

func (p *onePass) array(depth int) (any, bool) {
	p.i++ // [
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, true
	}
	for {
		p.space()
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if more, ok := p.next(']'); !ok || !more {
			return a, ok
		}
	}
}

// next reads what follows an element of an object or array: a comma
// (more true) or the closing bracket end.
func (p *onePass) next(end byte) (more, ok bool) {
	p.space()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return true, true
	case end:
		p.i++
		return false, true
	}
	return false, false
}

// str reads a string. Plain UTF-8 text is taken as it is; a string with
// escapes or control characters is handed to encoding/json, so that it
// reads exactly as the general path reads it.
func (p *onePass) str() (string, bool) {
	start := p.i
	p.i++ // "
	plain := true
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			raw := p.b[start+1 : p.i-1]
			if plain && utf8.Valid(raw) {
				return string(raw), true
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			p.i += 2
		case c < 0x20:
			return "", false
		default:
			p.i++
		}
	}
	return "", false
}

// number reads a JSON number as json.Number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *onePass) number() (any, bool) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return nil, false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return nil, false
		}
	}
	if !p.delimited() {
		return nil, false
	}
	return json.Number(p.b[start:p.i]), true
}

func (p *onePass) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *onePass) literal(word string) bool {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return p.delimited()
}

// delimited reports whether a number or literal ends where it should: at
// the end, white space, a comma or a closing bracket.
func (p *onePass) delimited() bool {
	if p.i >= len(p.b) {
		return true
	}
	switch p.b[p.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// toRequest fills a Request from the generic value of a request the schema
// accepted, as encoding/json would from the same body: each key names the
// field whose json tag it is. ok is false on anything it does not expect
// (a null, a key that is no field, a number a Go field cannot hold): the
// caller then decodes the body with encoding/json.
func toRequest(m map[string]any) (*Request, bool) {
	r := &Request{}
	if !fill(reflect.ValueOf(r).Elem(), m) {
		return nil, false
	}
	return r, true
}

var decimalType = reflect.TypeFor[Decimal]()

// fill sets dst from the generic value v.
func fill(dst reflect.Value, v any) bool {
	if dst.Type() == decimalType {
		n, ok := v.(json.Number)
		return ok && dst.Addr().Interface().(*Decimal).UnmarshalJSON([]byte(n)) == nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := v.(string)
		dst.SetString(s)
		return ok
	case reflect.Bool:
		b, ok := v.(bool)
		dst.SetBool(b)
		return ok
	case reflect.Int, reflect.Int64:
		// What encoding/json does: a base-10 integer that fits.
		n, ok := v.(json.Number)
		i, err := strconv.ParseInt(string(n), 10, dst.Type().Bits())
		dst.SetInt(i)
		return ok && err == nil
	case reflect.Pointer:
		dst.Set(reflect.New(dst.Type().Elem()))
		return fill(dst.Elem(), v)
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			return false
		}
		dst.Set(reflect.MakeSlice(dst.Type(), len(a), len(a)))
		for i := range a {
			if !fill(dst.Index(i), a[i]) {
				return false
			}
		}
		return true
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		found := 0
		t := dst.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if e, ok := m[name]; ok {
				if !fill(dst.Field(i), e) {
					return false
				}
				found++
			}
		}
		return found == len(m) // no key left that is not a field
	}
	return false
}

package request

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// SchemaJSON is dte-request.schema.json, the published contract of the request.
//
//go:embed dte-request.schema.json
var SchemaJSON []byte

const schemaURL = "https://github.com/dtecl/pipeline/shared/request/dte-request.schema.json"

// Validator checks requests. It holds the compiled schema; build one with
// NewValidator and share it (it is safe for concurrent use).
type Validator struct {
	schema  *jsonschema.Schema
	printer *message.Printer
}

// NewValidator compiles the embedded schema.
func NewValidator() (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("read request schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("load request schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compile request schema: %w", err)
	}
	return &Validator{schema: s, printer: message.NewPrinter(language.English)}, nil
}

// Parse decodes and validates a request body. On invalid input it returns a
// *ValidationError listing every violation found; the request is returned
// only when it is valid.
func (v *Validator) Parse(body []byte) (*Request, error) {
	var vs violations
	inst, fast := readObject(body)
	if !fast {
		var stop bool
		if inst, stop = generic(&vs, body); stop {
			return nil, vs.err()
		}
	}
	if err := v.schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("validate request: %w", err)
		}
		v.collect(&vs, ve)
	}
	var req *Request
	if fast && len(vs.list) == 0 {
		req, _ = toRequest(inst)
	}
	if req == nil {
		req = &Request{}
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(req); err != nil {
			// The schema already names the field whose type is wrong.
			if len(vs.list) == 0 {
				vs.add("(request)", "type", "cannot read the request: %v", err)
			}
			return nil, vs.err()
		}
	}
	checkRules(&vs, req)
	if err := vs.err(); err != nil {
		return nil, err
	}
	return req, nil
}

// generic is the general path to the value the schema validates, for a
// body readObject gave up on: it reads the body again for each check so
// as to name the problem exactly (stop true: vs says why the request
// cannot be validated at all).
func generic(vs *violations, body []byte) (inst map[string]any, stop bool) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		vs.add("(request)", "json-syntax", "the body is not valid JSON: %v", jsonSyntaxDetail(body))
		return nil, true
	}
	// One clear error for a body that is not an object (null, a list, a
	// number): checking its fields would only invent missing ones.
	m, ok := v.(map[string]any)
	if !ok {
		vs.add("(request)", "type", "the request must be a JSON object, got %s", jsonKind(v))
		return nil, true
	}
	switch dup, found, err := duplicateKey(body); {
	case errors.Is(err, errTooDeep):
		vs.add("(request)", "json-depth", "the request has %v", err)
		return nil, true
	case err != nil:
		vs.add("(request)", "json-syntax", "the body is not valid JSON: %v", err)
		return nil, true
	case found:
		vs.add(dup, "duplicate-key", "the key %q appears twice in the same object; send each field once", lastKey(dup))
		return nil, true
	}
	return m, false
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}

// lastKey is the last key of a field path: "folio" of "document.folio".
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func jsonSyntaxDetail(body []byte) string {
	var x any
	err := json.Unmarshal(body, &x)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "unreadable"
}

// collectSchemaViolations flattens the schema's error tree into violations.
func (v *Validator) collect(vs *violations, e *jsonschema.ValidationError) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			v.collect(vs, c)
		}
		return
	}
	field := joinPath(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			vs.add(joinPath(append(append([]string(nil), e.InstanceLocation...), m)), "required", "is required")
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			vs.add(joinPath(append(append([]string(nil), e.InstanceLocation...), p)), "unknown-field", "is not a field of the DTE request")
		}
	case *kind.Type:
		vs.add(field, "type", "must be %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		vs.add(field, "enum", "must be one of %s, got %v", enumList(k.Want), k.Got)
	case *kind.Const:
		vs.add(field, "enum", "must be %v, got %v", k.Want, k.Got)
	case *kind.MinLength:
		if k.Want == 1 {
			vs.add(field, "required", "must not be empty")
		} else {
			vs.add(field, "min-length", "must have at least %d characters", k.Want)
		}
	case *kind.MaxLength:
		vs.add(field, "max-length", "has %d characters; the SII allows at most %d", k.Got, k.Want)
	case *kind.Pattern:
		if rule := patternRule(e.SchemaURL); rule != "iso-8859-1" { // checkText names the character
			vs.add(field, rule, "%s", patternMessage(e.SchemaURL))
		}
	case *kind.Minimum, *kind.ExclusiveMinimum:
		vs.add(field, "minimum", "%s", e.ErrorKind.LocalizedString(v.printer))
	case *kind.Maximum, *kind.ExclusiveMaximum:
		vs.add(field, "maximum", "%s", e.ErrorKind.LocalizedString(v.printer))
	case *kind.MinItems:
		vs.add(field, "min-items", "must have at least %d items", k.Want)
	case *kind.MaxItems:
		vs.add(field, "max-items", "has %d items; at most %d are allowed", k.Got, k.Want)
	default:
		vs.add(field, "schema", "%s", e.ErrorKind.LocalizedString(v.printer))
	}
}

func enumList(want []any) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = fmt.Sprint(w)
	}
	return strings.Join(parts, ", ")
}

func patternRule(schemaURL string) string {
	switch {
	case strings.Contains(schemaURL, "$defs/rut"):
		return "rut-format"
	case strings.Contains(schemaURL, "$defs/date"):
		return "date"
	case strings.Contains(schemaURL, "$defs/text"):
		return "iso-8859-1"
	default:
		return "pattern"
	}
}

func patternMessage(schemaURL string) string {
	switch {
	case strings.Contains(schemaURL, "$defs/rut"):
		return "is not a RUT as the SII writes it: digits, a hyphen and the check digit, like 76086428-5 (no dots, no leading zeros, upper-case K)"
	case strings.Contains(schemaURL, "$defs/date"):
		return "must be an ISO date YYYY-MM-DD between 2000-01-01 and 2050-12-31"
	case strings.Contains(schemaURL, "$defs/text"):
		return "contains a character that ISO-8859-1, the SII's encoding, cannot carry"
	default:
		return "has an invalid format"
	}
}

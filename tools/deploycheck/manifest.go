package deploycheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes object of a manifest file, kept as decoded JSON
// (numbers as json.Number, so that 5 and "5" stay apart).
type Object struct {
	File       string // path relative to the repository root
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	Raw        map[string]any
}

// ID names the object in messages: Kind namespace/name (file).
func (o Object) ID() string {
	return fmt.Sprintf("%s %s/%s (%s)", o.Kind, o.Namespace, o.Name, o.File)
}

// Decode fills v, a typed view of the object, from its JSON.
func (o Object) Decode(v any) error {
	b, err := json.Marshal(o.Raw)
	if err != nil {
		return fmt.Errorf("%s: %w", o.ID(), err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", o.ID(), err)
	}
	return nil
}

// Clone returns a deep copy (for tests that break a manifest).
func (o Object) Clone() Object {
	b, _ := json.Marshal(o.Raw)
	var raw map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&raw)
	o.Raw = raw
	return o
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// LoadFile reads every object of a YAML file (documents separated by ---);
// rel names it in messages. Duplicate keys are an error.
func LoadFile(path, rel string) ([]Object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Object
	for i, doc := range docSeparator.Split(string(b), -1) {
		j, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", rel, i+1, err)
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue // only comments
		}
		d := json.NewDecoder(bytes.NewReader(j))
		d.UseNumber()
		var raw map[string]any
		if err := d.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", rel, i+1, err)
		}
		o := Object{File: rel, Raw: raw}
		o.APIVersion, _ = raw["apiVersion"].(string)
		o.Kind, _ = raw["kind"].(string)
		if md, ok := raw["metadata"].(map[string]any); ok {
			o.Name, _ = md["name"].(string)
			o.Namespace, _ = md["namespace"].(string)
		}
		if o.Kind == "" || o.Name == "" {
			return nil, fmt.Errorf("%s, document %d: no kind or metadata.name", rel, i+1)
		}
		out = append(out, o)
	}
	return out, nil
}

// LoadDirs reads every *.yaml and *.yml file directly in each directory
// (relative to root), in name order, as `kubectl apply -f DIR` does.
func LoadDirs(root string, dirs ...string) ([]Object, error) {
	var out []Object
	for _, dir := range dirs {
		var files []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(root, dir, pat))
			if err != nil {
				return nil, err
			}
			files = append(files, m...)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no manifests", dir)
		}
		sort.Strings(files)
		for _, f := range files {
			rel, _ := filepath.Rel(root, f)
			objs, err := LoadFile(f, filepath.ToSlash(rel))
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

// ofKind returns the objects of one kind (and apiVersion group prefix).
func ofKind(objs []Object, apiPrefix, kind string) []Object {
	var out []Object
	for _, o := range objs {
		if o.Kind == kind && strings.HasPrefix(o.APIVersion, apiPrefix) {
			out = append(out, o)
		}
	}
	return out
}

// SetPath sets a value at a dotted path of an object (numbers in the path
// index lists), for tests that break a manifest on purpose.
func SetPath(raw map[string]any, path string, value any) error {
	parts := strings.Split(path, ".")
	var cur any = raw
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if value == nil {
					delete(c, p)
				} else {
					c[p] = value
				}
				return nil
			}
			next, ok := c[p]
			if !ok {
				next = map[string]any{}
				c[p] = next
			}
			cur = next
		case []any:
			var n int
			if _, err := fmt.Sscan(p, &n); err != nil || n < 0 || n >= len(c) {
				return fmt.Errorf("%s: %q is no index of a list of %d", path, p, len(c))
			}
			if last {
				c[n] = value
				return nil
			}
			cur = c[n]
		default:
			return fmt.Errorf("%s: %q is under a %T", path, p, cur)
		}
	}
	return nil
}

package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
)

// Bodies makes the request bodies: DTE requests from sample files, one
// document type after another, each with its own folio (and Odoo move id)
// so that no two requests of a run, nor of runs with different first
// folios, are the same document. It is immutable and safe for concurrent
// use.
type Bodies struct {
	first     int64
	templates []template // in the order of the types asked for
}

// template is a sample marshalled once with two holes: the folio and the
// move id. A body is the parts with the numbers between them.
type template struct {
	docType int
	parts   [3][]byte
}

// hole stands for a number in the marshalled sample; no sample holds it.
const hole = `"\u0000load-hole\u0000"`

// SampleOptions choose what Bodies makes.
type SampleOptions struct {
	Types      []int  // document types, in turn; empty: every type the samples have
	Issuer     string // the issuer RUT to write instead of the samples' ("" keeps theirs)
	FirstFolio int64  // the folio of request 0; request i has FirstFolio + i
}

// NewBodies reads the sample requests in dir (*.json, one per document
// type) and prepares a template per type asked for.
func NewBodies(dir string, o SampleOptions) (*Bodies, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no sample requests (*.json) in %s", dir)
	}
	if o.FirstFolio < 1 {
		return nil, fmt.Errorf("first folio %d: folios start at 1", o.FirstFolio)
	}
	byType := map[int]template{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		t, err := newTemplate(raw, o.Issuer)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if _, dup := byType[t.docType]; dup {
			return nil, fmt.Errorf("%s: a second sample of type %d", f, t.docType)
		}
		byType[t.docType] = t
	}
	types := o.Types
	if len(types) == 0 {
		for t := range byType {
			types = append(types, t)
		}
		sort.Ints(types)
	}
	b := &Bodies{first: o.FirstFolio}
	for _, t := range types {
		tpl, ok := byType[t]
		if !ok {
			have := make([]int, 0, len(byType))
			for k := range byType {
				have = append(have, k)
			}
			slices.Sort(have)
			return nil, fmt.Errorf("no sample request of type %d in %s (have %v)", t, dir, have)
		}
		b.templates = append(b.templates, tpl)
	}
	return b, nil
}

func newTemplate(raw []byte, issuer string) (template, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // amounts and quantities exactly as written
	if err := dec.Decode(&m); err != nil {
		return template{}, err
	}
	doc, ok := m["document"].(map[string]any)
	if !ok {
		return template{}, fmt.Errorf("no document object")
	}
	typ, err := strconv.Atoi(fmt.Sprint(doc["type"]))
	if err != nil {
		return template{}, fmt.Errorf("document.type: %w", err)
	}
	odoo, ok := m["odoo"].(map[string]any)
	if !ok {
		return template{}, fmt.Errorf("no odoo object")
	}
	if issuer != "" {
		is, ok := m["issuer"].(map[string]any)
		if !ok {
			return template{}, fmt.Errorf("no issuer object")
		}
		is["rut"] = issuer
	}
	doc["folio"] = json.RawMessage(hole)
	odoo["move_id"] = json.RawMessage(hole)
	out, err := json.Marshal(m)
	if err != nil {
		return template{}, err
	}
	parts := bytes.Split(out, []byte(hole))
	if len(parts) != 3 {
		return template{}, fmt.Errorf("the sample holds the placeholder text")
	}
	return template{docType: typ, parts: [3][]byte(parts)}, nil
}

// Body is request i: type Types[i mod len(Types)], folio and move id
// FirstFolio + i.
func (b *Bodies) Body(i int) []byte {
	t := b.templates[i%len(b.templates)]
	n := strconv.AppendInt(nil, b.first+int64(i), 10)
	out := make([]byte, 0, len(t.parts[0])+len(t.parts[1])+len(t.parts[2])+2*len(n))
	out = append(out, t.parts[0]...)
	out = append(out, n...)
	out = append(out, t.parts[1]...)
	out = append(out, n...)
	return append(out, t.parts[2]...)
}

// Types are the document types of the bodies, in turn.
func (b *Bodies) Types() []int {
	out := make([]int, len(b.templates))
	for i, t := range b.templates {
		out[i] = t.docType
	}
	return out
}

package sii

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// respuesta is the SII's answer document inside a SOAP return:
// <SII:RESPUESTA><SII:RESP_HDR>…</SII:RESP_HDR><SII:RESP_BODY>…</SII:RESP_BODY></SII:RESPUESTA>.
// The order of the two parts varies and some answers wrap body groups
// (ESTADISTICA), so both are read as flat lists of leaf elements in
// document order, matched by local name.
type respuesta struct {
	hdr  []field
	body []field
}

type field struct{ name, value string }

// errNoHeader: the text holds no RESP_HDR.
var errNoHeader = errors.New("no RESP_HDR in the SII's answer")

// get returns the first leaf called name, header first.
func (r *respuesta) get(name string) string {
	for _, f := range r.hdr {
		if f.name == name {
			return f.value
		}
	}
	for _, f := range r.body {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// parseRespuesta reads an answer document (already unescaped from SOAP).
func parseRespuesta(text string) (*respuesta, error) {
	d := newDecoder([]byte(text))
	d.Strict = false // glosas have been seen with a stray '&'
	type open struct {
		name     string
		text     strings.Builder
		hasChild bool
	}
	r := &respuesta{}
	var (
		section *[]field // the part being read; nil outside
		stack   []*open  // elements open inside the part
		hasHdr  bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read SII answer: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case section != nil:
				if len(stack) > 0 {
					stack[len(stack)-1].hasChild = true
				}
				stack = append(stack, &open{name: t.Name.Local})
			case t.Name.Local == "RESP_HDR":
				section, hasHdr = &r.hdr, true
			case t.Name.Local == "RESP_BODY":
				section = &r.body
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			if section == nil {
				continue
			}
			if len(stack) == 0 { // end of RESP_HDR or RESP_BODY
				section = nil
				continue
			}
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !e.hasChild {
				*section = append(*section, field{name: e.name, value: strings.TrimSpace(e.text.String())})
			}
		}
	}
	if !hasHdr {
		return nil, errNoHeader
	}
	return r, nil
}

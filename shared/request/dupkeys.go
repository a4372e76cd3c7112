package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds how deeply objects and arrays may nest in a request (the
// schema's deepest field is four levels down).
const maxDepth = 32

// errTooDeep is a body nested deeper than maxDepth.
var errTooDeep = fmt.Errorf("objects and arrays nested more than %d levels deep", maxDepth)

// duplicateKey returns the path of the first key that appears twice in
// one object of body ("document.folio"; found is false when every key is
// unique).
// JSON decoders keep the last of two equal keys while other parsers keep
// the first: a request with both would mean different documents to
// different readers, so it is refused rather than guessed.
func duplicateKey(body []byte) (path string, found bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return walkDuplicates(dec, "", 0)
}

func walkDuplicates(dec *json.Decoder, path string, depth int) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", false, io.ErrUnexpectedEOF
		}
		return "", false, err
	}
	delim, ok := tok.(json.Delim)
	if !ok || (delim != '{' && delim != '[') {
		return "", false, nil // a scalar
	}
	if depth >= maxDepth {
		return "", false, errTooDeep
	}
	if delim == '[' {
		for i := 0; dec.More(); i++ {
			if dup, found, err := walkDuplicates(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); found || err != nil {
				return dup, found, err
			}
		}
		_, err := dec.Token() // ]
		return "", false, err
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		key, _ := tok.(string)
		p := key
		if path != "" {
			p = path + "." + key
		}
		if seen[key] {
			return p, true, nil
		}
		seen[key] = true
		if dup, found, err := walkDuplicates(dec, p, depth+1); found || err != nil {
			return dup, found, err
		}
	}
	_, err = dec.Token() // }
	return "", false, err
}

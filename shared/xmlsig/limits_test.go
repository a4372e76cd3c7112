package xmlsig_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dtecl/pipeline/shared/xmlsig"
)

func TestCheckLimits(t *testing.T) {
	small := xmlsig.Limits{MaxBytes: 1000, MaxDepth: 3, MaxElements: 5}
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"within", `<?xml version="1.0"?><a><b x=">"/><c><d/></c></a>`, nil},
		{"comments, CDATA and PIs are not elements", `<a><!-- <b><c><d><e> --><![CDATA[<b><c><d><e>]]><?pi <b>?></a>`, nil},
		{"'>' and '<'-free quotes in attributes", `<a x='/>' y="<"><b/></a>`, nil},
		{"too big", "<a>" + strings.Repeat("x", 1000) + "</a>", xmlsig.ErrTooLarge},
		{"too deep", `<a><b><c><d/></c></b></a>`, xmlsig.ErrTooDeep},
		{"self-closing do not nest", `<a><b/><b/><b/><b/></a>`, nil},
		{"too many elements", `<a><b/><b/><b/><b/><b/></a>`, xmlsig.ErrTooManyElements},
		{"DOCTYPE", `<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>`, xmlsig.ErrDTD},
		{"ENTITY anywhere", `<a><!ENTITY x "y"></a>`, xmlsig.ErrDTD},
		{"truncated", `<a><b x="`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := xmlsig.CheckLimits([]byte(tt.doc), small)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestParseDocumentLimits: the parser is never reached by a document over
// the limits, and the defaults hold real documents.
func TestParseDocumentLimits(t *testing.T) {
	deep := strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65)
	if _, err := xmlsig.ParseDocument([]byte(deep)); !errors.Is(err, xmlsig.ErrTooDeep) {
		t.Errorf("65 levels: %v", err)
	}
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`
	if _, err := xmlsig.ParseDocument([]byte(laughs)); !errors.Is(err, xmlsig.ErrDTD) {
		t.Errorf("billion laughs: %v", err)
	}
	many := append([]byte("<a>"), bytes.Repeat([]byte("<b/>"), xmlsig.DefaultMaxElements)...)
	many = append(many, "</a>"...)
	if _, err := xmlsig.ParseDocument(many); !errors.Is(err, xmlsig.ErrTooManyElements) {
		t.Errorf("%d elements: %v", xmlsig.DefaultMaxElements+1, err)
	}
	if _, err := xmlsig.ParseDocumentLimits([]byte("<a>"+strings.Repeat(" ", 100)+"</a>"), xmlsig.Limits{MaxBytes: 50}); !errors.Is(err, xmlsig.ErrTooLarge) {
		t.Errorf("over MaxBytes: %v", err)
	}
}

// FuzzCheckLimits: the pre-scan never counts fewer elements than the
// parser finds, so nothing it lets through can cost more than the limits.
func FuzzCheckLimits(f *testing.F) {
	seedSamples(f)
	f.Add([]byte(`<a x='>'><b/><!-- <c> --><![CDATA[<d>]]></a>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := xmlsig.ParseDocumentLimits(b, xmlsig.Limits{MaxElements: 1 << 30, MaxDepth: 1 << 20})
		if err != nil {
			return
		}
		n := len(doc.FindElements("//*"))
		if err := xmlsig.CheckLimits(b, xmlsig.Limits{MaxElements: n, MaxDepth: 1 << 20}); err != nil {
			t.Fatalf("%d elements parsed, but the pre-scan counts more: %v", n, err)
		}
		if n > 0 {
			if err := xmlsig.CheckLimits(b, xmlsig.Limits{MaxElements: n - 1, MaxDepth: 1 << 20}); !errors.Is(err, xmlsig.ErrTooManyElements) {
				t.Fatalf("%d elements parsed, but a limit of %d lets it through: %v", n, n-1, err)
			}
		}
	})
}

package xmlsig

import "github.com/beevik/etree"

// CanonicalizeWithComments is the #WithComments variant, to compare with
// xmllint --c14n (which keeps comments).
func CanonicalizeWithComments(el *etree.Element) []byte {
	return appendCanonical(nil, el, c14nOptions{comments: true})
}

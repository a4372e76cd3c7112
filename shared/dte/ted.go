package dte

import (
	"encoding/base64"
	"strconv"

	"github.com/dtecl/pipeline/shared/caf"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// appendTED stamps the document: it builds DD twice, flattened in
// ISO-8859-1 with the five entities (what FRMT signs, docs/sii-protocol.md §5.3) and
// in canonical form for the document, signs the first with the CAF key and
// appends the TED to dst.
func appendTED(dst []byte, doc *document, typ int, folio int64, issueDate string, c *caf.CAF, ts string) ([]byte, error) {
	head := "<DD><RE>" + doc.issuer.String() + "</RE><TD>" + strconv.Itoa(typ) + "</TD><F>" +
		strconv.FormatInt(folio, 10) + "</F><FE>" + issueDate + "</FE><RR>" + doc.receiver.String() + "</RR><RSR>"
	mnt := "</RSR><MNT>" + strconv.FormatInt(doc.total, 10) + "</MNT><IT1>"
	tail := "<TSTED>" + ts + "</TSTED></DD>"

	flat := make([]byte, 0, 1024)
	flat = append(flat, head...)
	flat, err := caf.AppendEntities(flat, doc.rsr)
	if err != nil {
		return nil, err
	}
	flat = append(flat, mnt...)
	if flat, err = caf.AppendEntities(flat, doc.it1); err != nil {
		return nil, err
	}
	flat = append(flat, "</IT1>"...)
	flat = c.AppendFlat(flat)
	flat = append(flat, tail...)
	frmt, err := c.SignTED(flat)
	if err != nil {
		return nil, err
	}

	dst = append(dst, `<TED version="1.0">`...)
	dst = append(dst, head...)
	dst = xmlsig.AppendText(dst, doc.rsr)
	dst = append(dst, mnt...)
	dst = xmlsig.AppendText(dst, doc.it1)
	dst = append(dst, "</IT1>"...)
	dst = c.AppendXML(dst)
	dst = append(dst, tail...)
	dst = append(dst, `<FRMT algoritmo="SHA1withRSA">`...)
	dst = base64.StdEncoding.AppendEncode(dst, frmt)
	return append(dst, "</FRMT></TED>"...), nil
}

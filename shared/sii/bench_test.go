package sii

import "testing"

func BenchmarkParseEstUp(b *testing.B) {
	body := axis("getEstUp", resp(hdrUp("EPR", "Envio Procesado"), group("33", "2", "1", "1", "0")+group("61", "1", "1", "0", "0")))
	for b.Loop() {
		ret, e := readSOAPAnswer(OpGetEstUp, 200, "text/xml", body)
		if e != nil {
			b.Fatal(e)
		}
		if _, e := parseEstUp(ret); e != nil {
			b.Fatal(e)
		}
	}
}

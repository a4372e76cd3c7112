package siisim

import (
	"context"
	"testing"
)

// BenchmarkUploadAndStatus: one upload and one getEstUp through the client
// over HTTP, settling at once (Step 0), with the JSON inspector: the cost
// of the protocol itself.
func BenchmarkUploadAndStatus(b *testing.B) {
	h := newHarness(b, Config{})
	for i := 0; b.Loop(); i++ {
		// a new folio each time, or the SII's RPT rule rejects it
		rc, err := h.upload(b, fakeEnvio(33, int64(i+1)).bytes(b))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.client.GetUploadStatus(context.Background(), h.cred, company, rc.TrackID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRealUpload: the official example, re-signed, uploaded with
// schema validation (xmllint) and the project's signature, TED and CAF
// checks (after the first upload the document is a repeat: RPT, decided
// after the same checks).
func BenchmarkRealUpload(b *testing.B) {
	h := realHarness(b, siiKeys(b))
	body := newEnvioFixture(b).bytes()
	for b.Loop() {
		if _, err := h.uploadAs(b, body); err != nil {
			b.Fatal(err)
		}
	}
}

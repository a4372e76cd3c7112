package enqueue

import (
	"encoding/json"
	"github.com/dtecl/pipeline/shared/testenv"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestAddonRequestsAreAccepted feeds what the Odoo addon builds from its
// sample invoices (odoo/tools/build_request.py runs the addon's own request
// builder) to enqueue: each must be accepted as it is.
func TestAddonRequestsAreAccepted(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, which has python3-jsonschema
	if _, err := os.Stat(python); err != nil {
		testenv.Unavailable(t, "%s is missing: %v", python, err)
	}
	tests := []struct {
		fixture string
		dtekey  string
	}{
		{"invoice-33.json", "76086428-5-33-1042"},
		{"invoice-34.json", "76086428-5-34-310"},
		{"guia-52.json", "76086428-5-52-77"},
		{"nota-debito-56.json", "76086428-5-56-15"},
		{"nota-credito-61.json", "76086428-5-61-23"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			cmd := exec.Command(python, "../../../odoo/tools/build_request.py", "../../../odoo/plain_tests/fixtures/"+tt.fixture)
			body, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("the addon could not build the request: %v\n%s", err, stderr)
			}
			now := time.Now()
			pub := &recordingPublisher{}
			rec := newHandler(t, pub, now).do(call{body: body}, now)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("enqueue answered %d to the addon's request:\n%s\nrequest: %s", rec.Code, rec.Body, body)
			}
			var a Accepted
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.DTEKey != tt.dtekey {
				t.Fatalf("answer %s (%v), want dtekey %s", rec.Body, err, tt.dtekey)
			}
			if len(pub.got) != 1 || string(pub.got[0].Data()) != string(body) {
				t.Fatalf("published %d events; the data must be the addon's body as sent", len(pub.got))
			}
		})
	}
}

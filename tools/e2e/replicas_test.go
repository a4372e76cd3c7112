package e2e

import (
	"testing"
	"time"

	"github.com/dtecl/pipeline/tools/siisim"
)

// TestReplicasUploadOnce runs sign and submit as three processes each,
// every one consuming the same queue, and sends 30 facturas three times
// each at once (identical requests, which the replicas may take at the
// same moment). Every document ends accepted with exactly one upload and
// one TrackID at the SII, one signed DTE in the archive, and Odoo told each
// status once, in order (checkLedger).
func TestReplicasUploadOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{replicas: map[string]int{"sign": 3, "submit": 3}, notifyParallelism: 1})
	docs := s.manyDocs(700, 30)
	s.sendCopiesAtOnce(docs, 3)
	s.waitAccepted(3*time.Minute, docs)
	// Copies that found an upload in progress come back after
	// LOST_UPLOAD_GRACE (25 s) and only re-announce it: let them.
	time.Sleep(30 * time.Second)
	s.checkLedger(docs, nil)
	if n := s.SII.Stats()[siisim.OpUpload]; n != len(docs) {
		t.Errorf("%d uploads for %d documents", n, len(docs))
	}
}

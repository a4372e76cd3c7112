package e2e

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/tools/odoofake"
	"github.com/dtecl/pipeline/tools/siisim"
)

// want is how a document must end.
type want struct {
	// status is its final status in Odoo and in the archive (default
	// accepted).
	status string
	// applied are the statuses Odoo applied to the move, in order (default
	// queued, signed, sent, status). With loose set, only their order is
	// checked: each one later in the pipeline than the one before, ending
	// in status. A run of retrying counts once.
	applied []string
	loose   bool
	// envelope is the final state of the document's one accepted upload
	// at the SII (default EPR, processed).
	envelope string
	// verdict is the simulator's verdict on the document in that upload
	// (default accepted, "ACE"); none when the envelope was rejected whole.
	verdict string
	// noTrackID: the pipeline settled the document without learning its
	// TrackID (an upload whose answer was lost, resolved by asking the SII
	// about the document).
	noTrackID bool
}

func (w want) withDefaults() want {
	if w.status == "" {
		w.status = archive.StatusAccepted
	}
	if w.applied == nil && !w.loose {
		w.applied = []string{"queued", "signed", "sent", w.status}
	}
	if w.envelope == "" {
		w.envelope = "EPR"
	}
	if w.verdict == "" && w.envelope == "EPR" {
		w.verdict = siisim.DocAccepted
	}
	return w
}

// rank orders statuses along the pipeline (error and retrying aside: they
// are ordered by time).
var rank = map[string]int{"queued": 1, "signed": 2, "sent": 3, "accepted": 4, "objected": 4, "rejected": 4}

// aside are the statuses outside the pipeline's order.
func aside(status string) bool { return status == "error" || status == "retrying" }

// envioFile is the file name submit gives a document's upload.
func envioFile(k dtekey.Key) string {
	return fmt.Sprintf("EnvioDTE-%s-%d-%d.xml", k.Issuer, k.Type, k.Folio)
}

// uploadsOf lists what the simulator received for a document (every
// upload, accepted or not, recognised by its file name).
func (s *stack) uploadsOf(k dtekey.Key) []siisim.Received {
	var out []siisim.Received
	for _, r := range s.SII.Received() {
		if r.File == envioFile(k) {
			out = append(out, r)
		}
	}
	return out
}

// callbacksOf lists the callbacks Odoo took for a move, in arrival order.
func (s *stack) callbacksOf(move int64) []odoofake.Callback {
	var out []odoofake.Callback
	for _, c := range s.Odoo.Received() {
		if c.MoveID == move {
			out = append(out, c)
		}
	}
	return out
}

// checkLedger is the end of every test: nothing lost (each document has its
// final status in Odoo and in the archive, its signed DTE archived) and
// nothing sent twice (one upload and one TrackID per document at the SII,
// one event per status at Odoo, statuses applied in order, no contract
// violation). wantOf gives each document's expectations (nil: accepted the
// plain way).
func (s *stack) checkLedger(docs []doc, wantOf func(doc) want) {
	s.t.Helper()
	if v := s.Odoo.Violations(); len(v) > 0 {
		s.t.Errorf("the callback contract was broken:\n%s", strings.Join(v, "\n"))
	}
	for _, d := range docs {
		w := want{}
		if wantOf != nil {
			w = wantOf(d)
		}
		s.checkDocument(d, w.withDefaults())
	}
}

func (s *stack) checkDocument(d doc, w want) {
	s.t.Helper()
	t := s.about(d.key)
	st, err := s.state(d.key)
	if err != nil {
		t.Errorf("%s: no state in the archive: %v", d.key, err)
		return
	}
	m, _ := s.Odoo.Move(d.move)
	// Nothing lost.
	if m.Status != w.status || st.Status != w.status {
		t.Errorf("%s: Odoo says %q, the archive %q; want %q (history %+v)", d.key, m.Status, st.Status, w.status, st.History)
	}
	if st.UploadStartedAt != nil {
		t.Errorf("%s: the archive still marks an upload in progress (%v)", d.key, st.UploadStartedAt)
	}
	signed := s.document(st.ArchiveKey)
	if archive.Digest(signed) != st.Digest {
		t.Errorf("%s: the archived DTE %s does not have the digest the state records", d.key, st.ArchiveKey)
	}
	if w.noTrackID != (st.TrackID == "") {
		t.Errorf("%s: TrackID %q in the archive (noTrackID %v)", d.key, st.TrackID, w.noTrackID)
	}
	if m.TrackID != st.TrackID {
		t.Errorf("%s: Odoo knows TrackID %q, the archive %q", d.key, m.TrackID, st.TrackID)
	}
	// Nothing sent twice: one upload of the document taken by the SII (a
	// TrackID), processed, with the archived envelope's bytes.
	var ups, refused []siisim.Received
	for _, u := range s.uploadsOf(d.key) {
		if u.TrackID == "" {
			refused = append(refused, u)
		} else {
			ups = append(ups, u)
		}
	}
	if len(refused) > 0 {
		t.Errorf("%s: the SII refused %d uploads:\n%s", d.key, len(refused), uploadList(refused))
	}
	if len(ups) != 1 {
		t.Errorf("%s: the SII took %d uploads (TrackIDs), want 1:\n%s", d.key, len(ups), uploadList(ups))
	} else {
		u := ups[0]
		if u.Status != 0 || u.TrackID == "" || (!w.noTrackID && u.TrackID != st.TrackID) {
			t.Errorf("%s: upload %s, want STATUS 0 with TrackID %q", d.key, u, st.TrackID)
		}
		switch {
		case u.Final != w.envelope:
			t.Errorf("%s: the upload ended %q at the SII, want %q: %s", d.key, u.Final, w.envelope, u)
		case w.verdict == "" && len(u.Documents) > 0,
			w.verdict != "" && (len(u.Documents) != 1 || u.Documents[0].DTEKey != d.key.String() || u.Documents[0].Verdict != w.verdict):
			t.Errorf("%s: the SII's verdict: %s; want %q", d.key, u, w.verdict)
		}
		if st.EnvioKey == "" || !bytes.Equal(u.Body, s.document(st.EnvioKey)) {
			t.Errorf("%s: the uploaded file is not the archived EnvioDTE %q", d.key, st.EnvioKey)
		}
		// The signed DTE that was archived is the one that travelled (no
		// second signature): its DTE element is in the envelope as is.
		if el := dteElement(signed); el == nil || !bytes.Contains(u.Body, el) {
			t.Errorf("%s: the uploaded envelope does not hold the archived DTE %s byte for byte", d.key, st.ArchiveKey)
		}
	}
	s.checkCallbacks(d, w, st)
}

// checkCallbacks checks what Odoo was told about a document: one event per
// status (a second "sent" would be a second TrackID), the applied statuses
// in order of occurrence, the TrackID the archive has.
func (s *stack) checkCallbacks(d doc, w want, st archive.State) {
	s.t.Helper()
	t := s.about(d.key)
	cbs := s.callbacksOf(d.move)
	events := map[string]map[string]bool{} // status → event ids
	var applied []odoofake.Callback
	for _, c := range cbs {
		if c.DTEKey != d.key.String() {
			t.Errorf("move %d got a callback for %s, want %s", d.move, c.DTEKey, d.key)
		}
		if events[c.Status] == nil {
			events[c.Status] = map[string]bool{}
		}
		events[c.Status][c.EventID] = true
		if c.Result == "applied" {
			applied = append(applied, c)
		}
	}
	for status, ids := range events {
		// A request sent twice is queued twice; each slow retry is told.
		if len(ids) > 1 && status != "queued" && status != "retrying" {
			t.Errorf("%s: Odoo got %d different %q events: %v", d.key, len(ids), status, keys(ids))
		}
	}
	var seq []string
	var last time.Time
	for i, c := range applied {
		if c.Status != "retrying" || len(seq) == 0 || seq[len(seq)-1] != "retrying" {
			seq = append(seq, c.Status) // a run of retries counts once
		}
		at, err := time.Parse(time.RFC3339, c.OccurredAt)
		if err != nil || at.Before(last) {
			t.Errorf("%s: applied %q occurred at %s, before the status it follows (%s)", d.key, c.Status, c.OccurredAt, last.Format(time.RFC3339))
		}
		last = at
		if i > 0 && !aside(c.Status) && !aside(applied[i-1].Status) && rank[c.Status] <= rank[applied[i-1].Status] {
			t.Errorf("%s: Odoo moved from %q back to %q", d.key, applied[i-1].Status, c.Status)
		}
		if (c.Status == "sent" || archive.FinalStatus(c.Status)) && c.TrackID != st.TrackID {
			t.Errorf("%s: %q callback with TrackID %q, the archive has %q", d.key, c.Status, c.TrackID, st.TrackID)
		}
	}
	switch {
	case w.loose && (len(seq) == 0 || seq[len(seq)-1] != w.status):
		t.Errorf("%s: Odoo applied %v; want them to end in %q", d.key, seq, w.status)
	case !w.loose && !slices.Equal(seq, w.applied):
		t.Errorf("%s: Odoo applied %v, want %v (all callbacks: %s)", d.key, seq, w.applied, callbackList(cbs))
	}
}

// dteElement is the <DTE> element of a signed DTE file, without the XML
// declaration.
func dteElement(signed []byte) []byte {
	start, end := bytes.Index(signed, []byte("<DTE ")), bytes.LastIndex(signed, []byte("</DTE>"))
	if start < 0 || end < start {
		return nil
	}
	return signed[start : end+len("</DTE>")]
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func uploadList(ups []siisim.Received) string {
	var b strings.Builder
	for _, u := range ups {
		fmt.Fprintf(&b, "  %s\n", u)
	}
	return b.String()
}

func callbackList(cbs []odoofake.Callback) string {
	var b strings.Builder
	for _, c := range cbs {
		fmt.Fprintf(&b, "\n  %s %s %s track %q occurred %s, received %s: %s", c.Result, c.Status, c.EventID, c.TrackID, c.OccurredAt, c.Received.UTC().Format("15:04:05.000"), c.Message)
	}
	return b.String()
}

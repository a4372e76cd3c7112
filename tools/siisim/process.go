package siisim

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// docRecord is a document the simulator processed, for QueryEstDte,
// repeated documents (RPT) and references (REF-3-750).
type docRecord struct {
	key       string
	typ       int
	folio     int64
	issuer    rut.RUT
	receiver  string
	date      string
	total     int64
	refs      []Reference
	verdict   string
	processed time.Time // when its upload reached its final state
}

func (d *docRecord) accepted() bool { return d.verdict == DocAccepted || d.verdict == DocObjected }

// accept assigns a TrackID to an upload that passed the upload-time
// checks and decides, now, what processing will find; getEstUp reveals it
// state by state as time passes. Deciding at arrival keeps the outcome
// independent of when (or whether) anyone asks.
func (s *Server) accept(env *Envio, sender, company rut.RUT, now time.Time) *upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &upload{received: now, company: company}
	u.rec.TrackID = strconv.FormatInt(s.nextTrack, 10)
	s.nextTrack++
	final, reason := s.envelopeVerdict(env, sender, company)
	u.path, u.final, u.rec.Reason = pathTo(final), final, reason
	if final == stateEPR {
		done := u.doneAt(s.cfg.Step)
		repeated := 0
		for _, d := range env.Documents {
			rec, res := s.documentVerdict(d, company, now, u.docs)
			rec.processed = done
			u.docs = append(u.docs, rec)
			u.results = append(u.results, res)
			if rec.verdict == DocRepeated {
				repeated++
			}
		}
		if repeated == len(env.Documents) {
			u.final, u.path, u.rec.Reason = stateRPT, pathTo(stateRPT), "every document was already accepted"
		}
		for _, d := range u.docs {
			s.docs[d.key] = append(s.docs[d.key], d)
		}
	}
	s.byTrack[u.rec.TrackID] = u
	return u
}

// envelopeVerdict applies the envelope-level rules: a failure rejects the
// whole upload (docs/sii-protocol.md §7, §12).
func (s *Server) envelopeVerdict(env *Envio, sender, company rut.RUT) (state, reason string) {
	if f := s.faults.RejectEnvelope; f != "" {
		s.faults.RejectEnvelope = ""
		return f, "rejected by fault injection"
	}
	switch {
	case env.RutEnvia != sender.String():
		return stateRCT, fmt.Sprintf("Caratula RutEnvia %s is not rutSender %s", env.RutEnvia, sender)
	case env.RutEmisor != company.String():
		return stateRCT, fmt.Sprintf("Caratula RutEmisor %s is not rutCompany %s", env.RutEmisor, company)
	case len(env.Documents) == 0:
		return stateRCT, "no DTE in the SetDTE"
	}
	counts := map[int]int{}
	for _, d := range env.Documents {
		if d.Issuer != env.RutEmisor {
			return stateRCT, fmt.Sprintf("DTE %d folio %d: RUTEmisor %s is not the Caratula's RutEmisor %s", d.Type, d.Folio, d.Issuer, env.RutEmisor)
		}
		counts[d.Type]++
	}
	for t, n := range env.SubTotals {
		if counts[t] != n {
			return stateRCT, fmt.Sprintf("Caratula SubTotDTE %d: NroDTE %d, the SetDTE holds %d", t, n, counts[t])
		}
	}
	for t, n := range counts {
		if _, ok := env.SubTotals[t]; !ok {
			return stateRCT, fmt.Sprintf("Caratula has no SubTotDTE for type %d (%d documents)", t, n)
		}
	}
	signer, err := signerRUT(env)
	if err != nil {
		return stateRFR, "SetDTE signature: " + err.Error()
	}
	if signer.String() != env.RutEnvia {
		return stateRFR, fmt.Sprintf("SetDTE signed by %s, not by RutEnvia %s", signer, env.RutEnvia)
	}
	return stateEPR, ""
}

// documentVerdict applies the per-document rules; a failure rejects only
// that document. earlier are the documents before it in the same upload.
func (s *Server) documentVerdict(d Document, company rut.RUT, now time.Time, earlier []*docRecord) (*docRecord, DocumentResult) {
	rec := &docRecord{typ: d.Type, folio: d.Folio, issuer: company, receiver: d.Receiver, date: d.IssueDate, total: d.Total, refs: d.References}
	k := dtekey.Key{Issuer: company, Type: d.Type, Folio: d.Folio}
	rec.key = k.String()
	res := DocumentResult{DTEKey: rec.key, Type: d.Type, Folio: d.Folio, Signature: d.Signature, TED: d.TED, CAF: d.CAF, Dates: d.Dates}
	reject := func(verdict, code, reason string) (*docRecord, DocumentResult) {
		rec.verdict, res.Verdict, res.Code, res.Reason = verdict, verdict, code, reason
		return rec, res
	}
	if _, err := rut.Parse(d.Receiver); err != nil {
		return reject(DocRejected, "", "RUTRecep: "+err.Error())
	}
	if d.Folio <= 0 {
		return reject(DocRejected, "", "folio must be positive")
	}
	if reason, ok := s.faults.Reject[rec.key]; ok {
		return reject(DocRejected, "", reason)
	}
	if !d.Signature.OK {
		return reject(DocRejected, "", "firma del DTE: "+d.Signature.Detail)
	}
	if !d.CAF.OK {
		return reject(DocRejected, "", "CAF: "+d.CAF.Detail)
	}
	if !d.TED.OK {
		return reject(DocRejected, "", "TED: "+d.TED.Detail)
	}
	if !d.Dates.OK {
		return reject(DocRejected, "", "fechas: "+d.Dates.Detail)
	}
	if s.acceptedBefore(rec.key, time.Time{}, earlier) != nil {
		return reject(DocRepeated, "", "document already received and accepted")
	}
	if isNote(d.Type) {
		for _, ref := range d.References {
			t, err1 := strconv.Atoi(ref.Type)
			f, err2 := strconv.ParseInt(ref.Folio, 10, 64)
			if err1 != nil || err2 != nil || !isElectronic(t) {
				continue // SET, paper documents, purchase orders: nothing to resolve
			}
			refKey := dtekey.Key{Issuer: company, Type: t, Folio: f}.String()
			// Only what was processed before this upload arrived counts: a note
			// in the same envelope as, or racing ahead of, its document fails.
			if s.acceptedBefore(refKey, now, nil) == nil {
				return reject(DocRejected, CodeRefNotAccepted, fmt.Sprintf("%s documento referenciado %d folio %d no ha sido recibido por el SII", CodeRefNotAccepted, t, f))
			}
		}
	}
	if reason, ok := s.faults.Object[rec.key]; ok {
		rec.verdict, res.Verdict, res.Reason = DocObjected, DocObjected, reason
		return rec, res
	}
	rec.verdict, res.Verdict = DocAccepted, DocAccepted
	return rec, res
}

// acceptedBefore finds an accepted record of key: among earlier (same
// upload) and, when by is zero, among every record; else only among those
// processed by then.
func (s *Server) acceptedBefore(key string, by time.Time, earlier []*docRecord) *docRecord {
	for _, d := range earlier {
		if d.key == key && d.accepted() {
			return d
		}
	}
	for _, d := range s.docs[key] {
		if d.accepted() && (by.IsZero() || !d.processed.After(by)) {
			return d
		}
	}
	return nil
}

// Received lists every upload in arrival order, with states as of now.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	out := make([]Received, 0, len(s.uploads))
	for _, u := range s.uploads {
		out = append(out, s.snapshot(u, now))
	}
	return out
}

// Upload returns what the simulator recorded for a TrackID.
func (s *Server) Upload(trackID string) (Received, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byTrack[trackID]
	if !ok {
		return Received{}, false
	}
	return s.snapshot(u, s.cfg.Now()), true
}

func (s *Server) snapshot(u *upload, now time.Time) Received {
	r := u.rec
	r.Detail = append([]string(nil), r.Detail...)
	if r.TrackID == "" {
		return r
	}
	r.State = u.stateAt(now, s.cfg.Step)
	r.Final = u.final
	if r.State == u.final {
		r.Documents = append([]DocumentResult(nil), u.results...)
	}
	return r
}

// counts are the getEstUp RESP_BODY groups of a processed upload, by type.
func (u *upload) counts() []kv {
	type tally struct{ inf, acc, rch, rep int }
	byType := map[int]*tally{}
	for _, d := range u.docs {
		t := byType[d.typ]
		if t == nil {
			t = &tally{}
			byType[d.typ] = t
		}
		t.inf++
		switch d.verdict {
		case DocAccepted:
			t.acc++
		case DocObjected:
			t.acc++
			t.rep++
		default:
			t.rch++
		}
	}
	types := make([]int, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Ints(types)
	var out []kv
	for _, typ := range types {
		t := byType[typ]
		out = append(out,
			kv{"TIPO_DOCTO", strconv.Itoa(typ)}, kv{"INFORMADOS", strconv.Itoa(t.inf)}, kv{"ACEPTADOS", strconv.Itoa(t.acc)},
			kv{"RECHAZADOS", strconv.Itoa(t.rch)}, kv{"REPAROS", strconv.Itoa(t.rep)})
	}
	return out
}

package sii

// Result is the pipeline's view of an SII answer: one of four values that
// map onto docs/design.md's settled results. The SII's own code and text are
// kept beside it in UploadStatus and DocumentStatus.
type Result string

// Results. Only Pending is not final.
const (
	Pending  Result = "pending"  // the SII is still working on it
	Accepted Result = "accepted" // aceptado
	Objected Result = "objected" // aceptado con reparos
	Rejected Result = "rejected" // rechazado
)

// Final reports whether the SII will not change its answer.
func (r Result) Final() bool { return r == Accepted || r == Objected || r == Rejected }

// TypeCount is one RESP_BODY group of getEstUp: the documents of one type
// in the upload and what became of them.
type TypeCount struct {
	Type     int `json:"type"`     // TIPO_DOCTO
	Informed int `json:"informed"` // INFORMADOS
	Accepted int `json:"accepted"` // ACEPTADOS
	Rejected int `json:"rejected"` // RECHAZADOS
	Objected int `json:"objected"` // REPAROS
}

// UploadStatus is the state of an upload (getEstUp).
type UploadStatus struct {
	TrackID     string      `json:"track_id"`
	Result      Result      `json:"result"`
	Estado      string      `json:"estado"` // ESTADO: REC, SOK, ..., EPR, RCT, ...
	Glosa       string      `json:"glosa"`  // GLOSA (or the meaning of ESTADO)
	NumAtencion string      `json:"num_atencion,omitempty"`
	ErrCode     string      `json:"err_code,omitempty"`
	Counts      []TypeCount `json:"counts,omitempty"` // per document type, once processed
}

// Totals adds up the counts of every type (Type is 0).
func (s *UploadStatus) Totals() TypeCount {
	var t TypeCount
	for _, c := range s.Counts {
		t.Informed += c.Informed
		t.Accepted += c.Accepted
		t.Rejected += c.Rejected
		t.Objected += c.Objected
	}
	return t
}

// resultFromCounts decides an EPR upload by its counts: rejected when any
// document was rejected (per document: find which with QueryEstDte when the
// upload held more than one), objected when any was accepted with
// objections, else accepted.
func resultFromCounts(counts []TypeCount) Result {
	var t TypeCount
	for _, c := range counts {
		t.Rejected += c.Rejected
		t.Objected += c.Objected
	}
	switch {
	case t.Rejected > 0:
		return Rejected
	case t.Objected > 0:
		return Objected
	}
	return Accepted
}

// DocumentStatus is the state of one document (getEstDte).
type DocumentStatus struct {
	Result      Result `json:"result"`
	Received    bool   `json:"received"` // the SII has the document (DOK, DNK, note codes)
	Estado      string `json:"estado"`   // ESTADO: DOK, DNK, FAU, FNA, FAN, EMP, TMC, ...
	Glosa       string `json:"glosa"`    // GLOSA_ESTADO (or the meaning of ESTADO)
	ErrCode     string `json:"err_code,omitempty"`
	GlosaErr    string `json:"glosa_err,omitempty"`
	NumAtencion string `json:"num_atencion,omitempty"`
}

// Receipt is DTEUpload's answer to an accepted upload (STATUS 0).
type Receipt struct {
	TrackID    string `json:"track_id"`
	RutSender  string `json:"rut_sender"`  // RUTSENDER as the SII echoes it
	RutCompany string `json:"rut_company"` // RUTCOMPANY
	File       string `json:"file"`        // FILE
	Timestamp  string `json:"timestamp"`   // TIMESTAMP, SII local time
}

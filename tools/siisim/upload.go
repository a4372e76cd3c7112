package siisim

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/certs"
	"github.com/dtecl/pipeline/shared/rut"
)

// Received is what the simulator recorded of one upload.
type Received struct {
	TrackID string    `json:"track_id,omitempty"` // only for STATUS 0
	At      time.Time `json:"at"`
	Sender  string    `json:"rut_sender"`  // rutSender-dvSender as sent
	Company string    `json:"rut_company"` // rutCompany-dvCompany as sent
	File    string    `json:"file"`
	Size    int       `json:"size"`
	Status  int       `json:"status"`           // DTEUpload STATUS
	Detail  []string  `json:"detail,omitempty"` // why STATUS ≠ 0
	// State is the getEstUp ESTADO now; Final the one it ends in.
	State  string `json:"state,omitempty"`
	Final  string `json:"final,omitempty"`
	Reason string `json:"reason,omitempty"` // why the envelope was rejected
	// Documents are the per-document verdicts, once processed.
	Documents []DocumentResult `json:"documents,omitempty"`
	// Body is the uploaded file (omitted from JSON).
	Body []byte `json:"-"`
}

// DocumentResult is the verdict on one DTE of an upload.
type DocumentResult struct {
	DTEKey    string `json:"dtekey"`
	Type      int    `json:"type"`
	Folio     int64  `json:"folio"`
	Verdict   string `json:"verdict"`          // DocAccepted, DocObjected, DocRejected, DocRepeated
	Code      string `json:"code,omitempty"`   // e.g. REF-3-750
	Reason    string `json:"reason,omitempty"` // why not accepted as is
	Signature Check  `json:"signature"`
	TED       Check  `json:"ted"`
	CAF       Check  `json:"caf"`
	Dates     Check  `json:"dates"`
}

// upload is one upload and its fate.
type upload struct {
	rec      Received
	received time.Time
	path     []string // states before the final one
	final    string
	docs     []*docRecord
	results  []DocumentResult
	company  rut.RUT
}

// doneAt is when the upload reaches its final state.
func (u *upload) doneAt(step time.Duration) time.Time {
	return u.received.Add(time.Duration(len(u.path)) * step)
}

// stateAt is the getEstUp ESTADO at t.
func (u *upload) stateAt(t time.Time, step time.Duration) string {
	if step <= 0 {
		return u.final
	}
	i := int(t.Sub(u.received) / step)
	if i < 0 {
		i = 0
	}
	if i >= len(u.path) {
		return u.final
	}
	return u.path[i]
}

// uploadForm is DTEUpload's multipart form.
type uploadForm struct {
	rutSender, dvSender, rutCompany, dvCompany string
	file                                       string
	body                                       []byte
	order                                      []string
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	rec := Received{At: now}
	// Without the marker the CGI answers for browsers, in HTML.
	if !strings.Contains(r.Header.Get("User-Agent"), "PROG 1.0") {
		rec.Status, rec.Detail = -1, []string{"User-Agent without \"PROG 1.0\": answered with an HTML page"}
		s.record(&upload{rec: rec})
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		io.WriteString(w, "<HTML><HEAD><TITLE>Envio de DTE</TITLE></HEAD><BODY>Documento recibido. Para recibir respuesta en XML indique PROG 1.0 en User-Agent.</BODY></HTML>\n")
		return
	}
	form, ferr := s.readUploadForm(r)
	if form != nil {
		rec.Sender = form.rutSender + "-" + form.dvSender
		rec.Company = form.rutCompany + "-" + form.dvCompany
		rec.File, rec.Size, rec.Body = form.file, len(form.body), form.body
	}
	status, detail, u := s.receive(r, form, ferr, now)
	rec.Status, rec.Detail = status, detail
	if u == nil {
		u = &upload{}
	}
	u.rec.At, u.rec.Sender, u.rec.Company, u.rec.File, u.rec.Size, u.rec.Body = rec.At, rec.Sender, rec.Company, rec.File, rec.Size, rec.Body
	u.rec.Status, u.rec.Detail = status, detail
	s.record(u)
	s.cfg.Logger.Info("siisim upload", "status", status, "track_id", u.rec.TrackID, "file", rec.File, "detail", strings.Join(detail, "; "))
	if status == statusInternal {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "Error 500")
		return
	}
	writeRecepcion(w, rec, now, u.rec.TrackID)
}

// receive runs the upload-time checks (docs/sii-protocol.md §2, §12) and, when they
// pass, decides the upload's fate; it returns the STATUS, its DETAIL and
// the upload (nil unless STATUS 0).
func (s *Server) receive(r *http.Request, form *uploadForm, ferr error, now time.Time) (int, []string, *upload) {
	tok := ""
	if c, err := r.Cookie("TOKEN"); err == nil {
		tok = c.Value
	}
	owner, bad := s.tokenOwner(tok)
	if bad != "" {
		return statusNotAuth, []string{"token: " + bad}, nil
	}
	if ferr != nil {
		var fe *formError
		if errors.As(ferr, &fe) {
			return fe.status, []string{fe.msg}, nil
		}
		return statusFileSize, []string{ferr.Error()}, nil
	}
	sender, err := rut.Parse(form.rutSender + "-" + form.dvSender)
	if err != nil {
		return statusNoPermission, []string{"rutSender/dvSender: " + err.Error()}, nil
	}
	company, err := rut.Parse(form.rutCompany + "-" + form.dvCompany)
	if err != nil {
		return statusCompany, []string{"rutCompany/dvCompany: " + err.Error()}, nil
	}
	if sender != owner {
		return statusNoPermission, []string{fmt.Sprintf("rutSender %s is not the token's owner %s", sender, owner)}, nil
	}
	if s.cfg.Companies != nil && !contains(s.cfg.Companies, company.String()) {
		return statusCompany, []string{"company " + company.String() + " is not authorised to send DTEs"}, nil
	}
	if s.cfg.Senders != nil && !contains(s.cfg.Senders[company.String()], sender.String()) {
		return statusNoPermission, []string{sender.String() + " may not send for " + company.String()}, nil
	}
	// The SII processes a file it received in full even if the client has
	// gone away since: the checks do not depend on the request.
	env, err := s.cfg.Inspector.InspectEnvio(form.body)
	if errors.Is(err, ErrUnavailable) {
		s.cfg.Logger.Error("siisim upload checks could not run", "err", err)
		return statusInternal, []string{"internal error: " + err.Error()}, nil
	}
	if err != nil {
		return statusSchema, []string{"cannot read the EnvioDTE: " + err.Error()}, nil
	}
	if !env.Schema.OK {
		detail := env.SchemaErrors
		if len(detail) > maxSchemaErrors {
			detail = append(detail[:maxSchemaErrors:maxSchemaErrors], "...")
		}
		if len(detail) == 0 {
			detail = []string{env.Schema.Detail}
		}
		return statusSchema, detail, nil
	}
	if !env.Structure.OK {
		return statusSchema, []string{"estructura: " + env.Structure.Detail}, nil
	}
	if !env.SetSignature.OK {
		return statusSignature, []string{"firma del SetDTE: " + env.SetSignature.Detail}, nil
	}
	u := s.accept(env, sender, company, now)
	return statusOK, nil, u
}

// formError is a problem with the multipart form and the STATUS it gets.
type formError struct {
	status int
	msg    string
}

func (e *formError) Error() string { return e.msg }

// readUploadForm reads the multipart form; the form is returned even with
// an error, as far as it was read, for the record.
func (s *Server) readUploadForm(r *http.Request) (*uploadForm, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &formError{statusFileSize, "not a multipart/form-data upload"}
	}
	// The body is read up to the file limit plus room for the form: a
	// larger one is refused as too big (STATUS 2), not as truncated.
	body := &io.LimitedReader{R: r.Body, N: s.cfg.MaxFileSize + 1<<20}
	tooBig := func() *formError {
		return &formError{statusFileSize, "archivo larger than " + strconv.FormatInt(s.cfg.MaxFileSize, 10) + " bytes"}
	}
	mr := multipart.NewReader(body, params["boundary"])
	f := &uploadForm{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if body.N <= 0 {
				return f, tooBig()
			}
			return f, &formError{3, "truncated multipart body: " + err.Error()}
		}
		name := p.FormName()
		f.order = append(f.order, name)
		b, err := io.ReadAll(io.LimitReader(p, s.cfg.MaxFileSize+1))
		if err != nil {
			if body.N <= 0 {
				return f, tooBig()
			}
			return f, &formError{3, "truncated part " + name + ": " + err.Error()}
		}
		v := strings.TrimSpace(string(b))
		switch name {
		case "rutSender":
			f.rutSender = v
		case "dvSender":
			f.dvSender = strings.ToUpper(v)
		case "rutCompany":
			f.rutCompany = v
		case "dvCompany":
			f.dvCompany = strings.ToUpper(v)
		case "archivo":
			f.file, f.body = p.FileName(), b
		}
	}
	switch {
	case f.rutSender == "" || f.dvSender == "":
		return f, &formError{statusNoPermission, "missing rutSender/dvSender"}
	case f.rutCompany == "" || f.dvCompany == "":
		return f, &formError{statusCompany, "missing rutCompany/dvCompany"}
	case len(f.body) == 0:
		return f, &formError{statusFileSize, "missing or empty archivo"}
	case int64(len(f.body)) > s.cfg.MaxFileSize:
		return f, &formError{statusFileSize, "archivo larger than " + strconv.FormatInt(s.cfg.MaxFileSize, 10) + " bytes"}
	}
	return f, nil
}

// writeRecepcion answers DTEUpload as the SII does when the User-Agent
// carries PROG 1.0.
func writeRecepcion(w http.ResponseWriter, rec Received, now time.Time, trackID string) {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<RECEPCIONDTE>\n")
	field := func(k, v string) {
		b.WriteString("<" + k + ">" + axisEscape(v) + "</" + k + ">\n")
	}
	field("RUTSENDER", rec.Sender)
	field("RUTCOMPANY", rec.Company)
	field("FILE", rec.File)
	field("TIMESTAMP", now.Format(time.DateTime))
	field("STATUS", strconv.Itoa(rec.Status))
	if rec.Status == statusOK {
		field("TRACKID", trackID)
	}
	if len(rec.Detail) > 0 && rec.Status != statusOK {
		b.WriteString("<DETAIL>\n")
		for _, d := range rec.Detail {
			field("ERROR", d)
		}
		b.WriteString("</DETAIL>\n")
	}
	b.WriteString("</RECEPCIONDTE>\n")
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, b.String())
}

// record keeps an upload for Received and, with a TrackID, for getEstUp.
func (s *Server) record(u *upload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploads = append(s.uploads, u)
}

// signerRUT is the RUT of the SetDTE's signer, if readable.
func signerRUT(env *Envio) (rut.RUT, error) {
	if env.SetSigner == nil {
		return rut.RUT{}, errors.New("no certificate in the SetDTE signature")
	}
	return certs.RUTOf(env.SetSigner)
}

// String summarises the record (without the file) for logs and test
// failures.
func (r Received) String() string {
	s := fmt.Sprintf("upload %s STATUS %d by %s for %s file %s (%d bytes)", r.TrackID, r.Status, r.Sender, r.Company, r.File, r.Size)
	if len(r.Detail) > 0 {
		s += " detail " + strings.Join(r.Detail, "; ")
	}
	if r.TrackID != "" {
		s += fmt.Sprintf(" state %s final %s", r.State, r.Final)
		if r.Reason != "" {
			s += " reason " + r.Reason
		}
		for _, d := range r.Documents {
			s += fmt.Sprintf(" [%s %s %s %s]", d.DTEKey, d.Verdict, d.Code, d.Reason)
		}
	}
	return s
}

package siisim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/rut"
)

// numAtencion is the SII's "attention number": a counter and a timestamp.
func (s *Server) numAtencion(now time.Time) string {
	s.mu.Lock()
	n := s.stats[OpGetEstUp] + s.stats[OpGetEstDte]
	s.mu.Unlock()
	return fmt.Sprintf("%d ( %s)", n, now.Format("2006/01/02 15:04:05"))
}

func (s *Server) handleEstUp(w http.ResponseWriter, r *http.Request) {
	_, p, err := readSOAP(r)
	if err != nil {
		writeFault(w, "soapenv:Client", err.Error())
		return
	}
	now := s.cfg.Now()
	na := s.numAtencion(now)
	if _, bad := s.tokenOwner(p["Token"]); bad != "" {
		writeSOAP(w, r, "getEstUp", respuesta([]kv{{"ESTADO", bad}, {"GLOSA", tokenStateGlosa(bad)}, {"NUM_ATENCION", na}}, nil))
		return
	}
	company, cerr := rut.Parse(strings.TrimSpace(p["RutCompania"]) + "-" + strings.ToUpper(strings.TrimSpace(p["DvCompania"])))
	track := strings.TrimSpace(p["TrackId"])
	s.mu.Lock()
	u, ok := s.byTrack[track]
	var state string
	var counts []kv
	if ok && cerr == nil && u.company == company {
		state = u.stateAt(now, s.cfg.Step)
		if state == u.final && (state == stateEPR || state == stateRPT) {
			counts = u.counts()
		}
	}
	s.mu.Unlock()
	if cerr != nil || !ok || u.company != company {
		// The SII's answer for an envío that is not the company's, or
		// missing parameters: ESTADO -11 with ERR_CODE 1.
		writeSOAP(w, r, "getEstUp", respuesta([]kv{{"TRACKID", track}, {"ESTADO", "-11"}, {"GLOSA", "ERROR: Envio no pertenece a la empresa o faltan parametros"},
			{"ERR_CODE", "1"}, {"SQL_CODE", "0"}, {"SRV_CODE", "1"}, {"NUM_ATENCION", na}}, nil))
		return
	}
	hdr := []kv{{"TRACKID", track}, {"ESTADO", state}, {"GLOSA", stateGlosa(state)}, {"NUM_ATENCION", na}}
	writeSOAP(w, r, "getEstUp", respuesta(hdr, counts))
}

func tokenStateGlosa(code string) string {
	switch code {
	case estNoCookie:
		return "Cookie Inactivo (o token no existe)"
	case estTokenDead:
		return "Token Inactivo"
	case estTokenNoExi:
		return "Token No Existe"
	}
	return ""
}

func (s *Server) handleEstDte(w http.ResponseWriter, r *http.Request) {
	_, p, err := readSOAP(r)
	if err != nil {
		writeFault(w, "soapenv:Client", err.Error())
		return
	}
	now := s.cfg.Now()
	na := s.numAtencion(now)
	answer := func(estado, glosaErr string) {
		code, glosa := docStateCodes(estado)
		if code == "" {
			glosa = tokenStateGlosa(estado)
			if glosa == "" {
				glosa = "ERROR RETORNO"
			}
		}
		if glosaErr == "" {
			glosaErr = glosa
		}
		writeSOAP(w, r, "getEstDte", respuesta([]kv{{"ESTADO", estado}, {"GLOSA_ESTADO", glosa}, {"ERR_CODE", code}, {"GLOSA_ERR", glosaErr}, {"NUM_ATENCION", na}}, nil))
	}
	if _, bad := s.tokenOwner(p["Token"]); bad != "" {
		answer(bad, "")
		return
	}
	q, err := readDocQuery(p)
	if err != nil {
		answer("-1", err.Error())
		return
	}
	estado := s.documentState(q, now)
	answer(estado, "")
}

// docQuery is getEstDte's parameters, checked.
type docQuery struct {
	key      string
	receiver string
	date     string // YYYY-MM-DD
	total    int64
}

func readDocQuery(p map[string]string) (docQuery, error) {
	get := func(k string) string { return strings.TrimSpace(p[k]) }
	issuer, err := rut.Parse(get("RutCompania") + "-" + strings.ToUpper(get("DvCompania")))
	if err != nil {
		return docQuery{}, fmt.Errorf("RutCompania/DvCompania: %w", err)
	}
	receiver, err := rut.Parse(get("RutReceptor") + "-" + strings.ToUpper(get("DvReceptor")))
	if err != nil {
		return docQuery{}, fmt.Errorf("RutReceptor/DvReceptor: %w", err)
	}
	typ, err1 := strconv.Atoi(get("TipoDte"))
	folio, err2 := strconv.ParseInt(get("FolioDte"), 10, 64)
	total, err3 := strconv.ParseInt(get("MontoDte"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return docQuery{}, fmt.Errorf("TipoDte, FolioDte and MontoDte must be integers")
	}
	d, err := time.Parse("02012006", get("FechaEmisionDte"))
	if err != nil {
		return docQuery{}, fmt.Errorf("FechaEmisionDte %q is not DDMMAAAA", get("FechaEmisionDte"))
	}
	k, err := dtekey.New(issuer.String(), typ, folio)
	if err != nil {
		return docQuery{}, err
	}
	return docQuery{key: k.String(), receiver: receiver.String(), date: d.Format(time.DateOnly), total: total}, nil
}

// documentState answers QueryEstDte from what was processed by now: FAU
// for documents never received, not yet processed or rejected; DNK when
// receiver, date or amount differ; DOK, or the code of a processed note
// that modifies the document.
func (s *Server) documentState(q docQuery, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.acceptedBefore(q.key, now, nil)
	if d == nil {
		return "FAU"
	}
	if d.receiver != q.receiver || d.date != q.date || d.total != q.total {
		return "DNK"
	}
	if code := s.noteCode(d, now); code != "" {
		return code
	}
	return "DOK"
}

// noteCode is the state a processed, accepted note gives the document it
// references: AND/ANC annul, MMD/MMC amounts, TMD/TMC text.
func (s *Server) noteCode(d *docRecord, now time.Time) string {
	code := ""
	for _, recs := range s.docs {
		for _, n := range recs {
			if !isNote(n.typ) || !n.accepted() || n.processed.After(now) || n.issuer != d.issuer {
				continue
			}
			for _, ref := range n.refs {
				if ref.Type != strconv.Itoa(d.typ) || ref.Folio != strconv.FormatInt(d.folio, 10) {
					continue
				}
				credit := n.typ == 61 || n.typ == 112
				var c string
				switch ref.Code {
				case 1:
					c = pick(credit, "ANC", "AND")
				case 2:
					c = pick(credit, "TMC", "TMD")
				case 3:
					c = pick(credit, "MMC", "MMD")
				}
				// annulment outranks an amount change, which outranks a text one
				if rank(c) > rank(code) {
					code = c
				}
			}
		}
	}
	return code
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func rank(code string) int {
	switch code {
	case "ANC", "AND":
		return 3
	case "MMC", "MMD":
		return 2
	case "TMC", "TMD":
		return 1
	}
	return 0
}

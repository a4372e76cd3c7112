package siisim

import (
	"encoding/json"
	"io"
	"net/http"
)

// The admin endpoints let tests and developers steer a running simulator:
//
//	GET    /admin/faults    the faults in force
//	POST   /admin/faults    add faults (JSON Faults); answers the faults in force
//	DELETE /admin/faults    clear every fault
//	GET    /admin/received  every upload with its TrackID, state and verdicts
//	GET    /admin/stats     calls per operation

func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	d := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	d.DisallowUnknownFields()
	var f Faults
	if err := d.Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "faults: " + err.Error()})
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "faults: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getReceived(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Received())
}

func (s *Server) getStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

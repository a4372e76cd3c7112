package enqueue

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/dtecl/pipeline/shared/request"
)

// problemTypeBase prefixes the RFC 9457 problem type URIs.
const problemTypeBase = "https://github.com/dtecl/pipeline/problems/"

// Problem is an RFC 9457 problem document; Errors lists each bad field.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors []request.Violation `json:"errors,omitempty"`
}

func problem(w http.ResponseWriter, status int, typ, title, detail string, errs []request.Violation) int {
	writeJSON(w, status, "application/problem+json", Problem{Type: problemTypeBase + typ, Title: title, Status: status, Detail: detail, Errors: errs})
	return status
}

func tooLarge(w http.ResponseWriter, limit int64) int {
	return problem(w, http.StatusRequestEntityTooLarge, "too-large", "Request too large",
		fmt.Sprintf("a DTE request may be at most %d bytes", limit), nil)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

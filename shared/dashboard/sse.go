package dashboard

import (
	"fmt"
	"net/http"
	"time"
)

// handleStream sends the snapshot as server-sent events: at once, then
// after every change (at most one per PushInterval), and at least every
// 5 s (the time-dependent figures, and a keep-alive). The browser's
// EventSource reconnects by itself when the stream breaks.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request, _ role) {
	rc := http.NewResponseController(w)
	// A stream outlives the server's write timeout.
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var sent uint64
	first := true
	for {
		version, changed := s.watch()
		if first || version != sent {
			body, err := s.snapshotJSON(r.Context())
			if err != nil {
				fmt.Fprintf(w, "event: failure\ndata: %q\n\n", err.Error())
			} else {
				fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", body)
			}
			if err := rc.Flush(); err != nil {
				return
			}
			sent, first = version, false
			// Throttle: changes in the next interval wait for it.
			select {
			case <-r.Context().Done():
				return
			case <-s.done:
				return
			case <-time.After(s.cfg.PushInterval):
			}
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-changed:
		case <-time.After(5 * time.Second):
			first = true // resend: time-dependent figures
		}
	}
}

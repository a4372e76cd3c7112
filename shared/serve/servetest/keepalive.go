package servetest

import (
	"net/http"
	"sync"
)

// DropSecond is an HTTP handler that answers Status to every request but
// the second, whose connection it closes without an answer: what a client
// sees when it reuses a kept-alive connection that the server closed at
// that moment (its idle timeout, a restart). Sent one after the other, the
// first two requests share a connection, so the second fails on a reused
// one. Requests counts what reached it.
type DropSecond struct {
	Status int

	mu sync.Mutex
	n  int
}

func (d *DropSecond) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.n++
	n := d.n
	d.mu.Unlock()
	if n == 2 {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	w.WriteHeader(d.Status)
}

// Requests is how many requests reached the handler.
func (d *DropSecond) Requests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

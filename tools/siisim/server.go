package siisim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dtecl/pipeline/shared/rut"
	"github.com/dtecl/pipeline/shared/xmlsig"
)

// Paths the simulator serves, the SII's own.
const (
	PathSeed      = "/DTEWS/CrSeed.jws"
	PathToken     = "/DTEWS/GetTokenFromSeed.jws"
	PathUpload    = "/cgi_dte/UPL/DTEUpload"
	PathUploadEst = "/DTEWS/QueryEstUp.jws"
	PathDocEst    = "/DTEWS/QueryEstDte.jws"
)

// Server is the simulated SII. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	stopped chan struct{} // closed by Close: releases hanging calls
	once    sync.Once

	mu        sync.Mutex
	seeds     map[string]time.Time // seed → expiry
	tokens    map[string]*session
	uploads   []*upload               // every upload, in arrival order
	byTrack   map[string]*upload      // accepted uploads by TrackID
	docs      map[string][]*docRecord // documents by dtekey
	nextTrack int64
	faults    Faults
	stats     map[string]int
}

// session is an issued token.
type session struct {
	rut     rut.RUT
	expires time.Time
}

// New returns a simulator for cfg.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("siisim config: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		stopped:   make(chan struct{}),
		seeds:     map[string]time.Time{},
		tokens:    map[string]*session{},
		byTrack:   map[string]*upload{},
		docs:      map[string][]*docRecord{},
		nextTrack: cfg.TrackIDStart,
		faults:    cfg.Faults.clone(),
		stats:     map[string]int{},
	}
	s.cfg.Inspector = WithLimits(cfg.Inspector, xmlsig.Limits{MaxBytes: cfg.MaxFileSize})
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathSeed, s.sii(OpGetSeed, s.handleSeed))
	mux.HandleFunc("POST "+PathToken, s.sii(OpGetToken, s.handleToken))
	mux.HandleFunc("POST "+PathUpload, s.sii(OpUpload, s.handleUpload))
	mux.HandleFunc("POST "+PathUploadEst, s.sii(OpGetEstUp, s.handleEstUp))
	mux.HandleFunc("POST "+PathDocEst, s.sii(OpGetEstDte, s.handleEstDte))
	mux.HandleFunc("GET /admin/faults", s.getFaults)
	mux.HandleFunc("POST /admin/faults", s.postFaults)
	mux.HandleFunc("DELETE /admin/faults", s.deleteFaults)
	mux.HandleFunc("GET /admin/received", s.getReceived)
	mux.HandleFunc("GET /admin/stats", s.getStats)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.mux = mux
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close releases calls held by the hang fault. The Server stays usable.
func (s *Server) Close() { s.once.Do(func() { close(s.stopped) }) }

// Start serves on addr ("127.0.0.1:0" picks a port) until ctx ends, and
// returns the base URL to give clients (e.g. sii.Environment(url)). The
// returned channel yields the server's exit error once it has stopped.
func (s *Server) Start(ctx context.Context, addr string) (string, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("siisim listen %s: %w", addr, err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() {
		err := hs.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		s.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), done, nil
}

// sii wraps an SII endpoint: counts the call, applies latency and faults.
func (s *Server) sii(op string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats[op]++
		f := s.faults.take(op)
		latency := time.Duration(s.faults.Latency)
		hangFor := time.Duration(s.faults.HangFor)
		s.mu.Unlock()
		s.cfg.Logger.Info("siisim call", "op", op, "remote", r.RemoteAddr)
		if latency > 0 && !s.wait(r.Context(), latency) {
			return
		}
		switch f {
		case faultHang:
			if hangFor == 0 {
				hangFor = 5 * time.Minute
			}
			s.wait(r.Context(), hangFor)
			// The client gave up or the hang ran out: answer like a gateway
			// that timed out.
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		case fault5xx:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "Error 500")
			return
		case faultHTML:
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>Servicio no disponible temporalmente. Intente mas tarde.</p></body></html>\n")
			return
		}
		h(w, r)
	}
}

// wait sleeps for d unless the request or the server ends first; it
// reports whether the whole d passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.stopped:
		return false
	}
}

// Stats counts the calls per operation (OpGetSeed, ...), faults included.
func (s *Server) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// SetFaults adds faults (as POST /admin/faults does).
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.merge(f.clone())
	if f.ExpireTokens {
		s.expireTokensLocked()
	}
	return nil
}

// ClearFaults removes every fault (as DELETE /admin/faults does).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = Faults{}
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.clone()
}

// ExpireTokens makes every token issued so far invalid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireTokensLocked()
}

func (s *Server) expireTokensLocked() {
	now := s.cfg.Now()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

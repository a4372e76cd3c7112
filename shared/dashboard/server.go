package dashboard

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/dtecl/pipeline/shared/archive"
	"github.com/dtecl/pipeline/shared/deadletter"
	"github.com/dtecl/pipeline/shared/dtekey"
)

// Config configures the web side.
type Config struct {
	Store   *Store
	Archive archive.Store // the signed XML, the EnvioDTE, the CAFs
	Feed    *Feed         // the queue consumer, or nil when fed over HTTP
	Broker  *BrokerWatch
	CAFs    *CAFWatch
	// AMQPURL is the broker replays are sent to.
	AMQPURL string
	// HTTPEvents serves POST /events (CloudEvents from Knative Triggers)
	// and POST /events/undelivered (their dead-letter sink).
	HTTPEvents bool
	// OperatorToken allows replays; ViewToken, when set, is needed to see
	// anything (see auth).
	OperatorToken, ViewToken string
	Warnings                 CAFWarnings
	StuckAfter               time.Duration // a document in sent longer is "stuck" (default 1 h)
	PushInterval             time.Duration // at most one live update per interval (default 1 s)
	Logger                   *slog.Logger
	Now                      func() time.Time
}

// Server is the dashboard's web side.
type Server struct {
	cfg  Config
	auth *auth
	done <-chan struct{}
	page *template.Template

	mu      sync.Mutex
	version uint64        // bumped by every change
	changed chan struct{} // closed and replaced on every change
	cache   struct {
		version uint64
		at      time.Time
		body    []byte
	}
	rebuild string // what a running or finished rebuild says
}

//go:embed page.html
var pageHTML string

// New makes the web side; its live streams end when ctx does.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Archive == nil || cfg.Broker == nil || cfg.CAFs == nil {
		return nil, errors.New("dashboard: Store, Archive, Broker and CAFs are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = time.Hour
	}
	if cfg.PushInterval <= 0 {
		cfg.PushInterval = time.Second
	}
	if cfg.Warnings.FoliosLeft <= 0 {
		cfg.Warnings.FoliosLeft = 100
	}
	if cfg.Warnings.Expiry <= 0 {
		cfg.Warnings.Expiry = 30 * 24 * time.Hour
	}
	page, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("dashboard page: %w", err)
	}
	s := &Server{cfg: cfg, auth: newAuth(cfg.OperatorToken, cfg.ViewToken, cfg.Now), done: ctx.Done(), page: page, changed: make(chan struct{})}
	cfg.Store.OnCommit(s.Changed)
	return s, nil
}

// Changed tells the live pages that something changed.
func (s *Server) Changed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetRebuild records what the rebuild from the archive is doing.
func (s *Server) SetRebuild(text string) {
	s.mu.Lock()
	s.rebuild = text
	s.mu.Unlock()
	s.Changed()
}

func (s *Server) watch() (uint64, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, s.changed
}

// Snapshot is everything the page shows.
type Snapshot struct {
	Version uint64    `json:"version"`
	Now     time.Time `json:"now"`
	Projection
	Queues  BrokerStats `json:"queues"`
	CAFs    CAFList     `json:"cafs"`
	Feed    *FeedStatus `json:"feed,omitempty"`
	Rebuild string      `json:"rebuild,omitempty"`
}

// snapshotJSON is the current snapshot as JSON, computed at most once per
// change (and again after 5 s, for what depends on the time), shared by
// every live page.
func (s *Server) snapshotJSON(ctx context.Context) ([]byte, error) {
	version, _ := s.watch()
	s.mu.Lock()
	if s.cache.body != nil && s.cache.version == version && s.cfg.Now().Sub(s.cache.at) < 5*time.Second {
		b := s.cache.body
		s.mu.Unlock()
		return b, nil
	}
	rebuild := s.rebuild
	s.mu.Unlock()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	snap.Version, snap.Rebuild = version, rebuild
	b, err := json.Marshal(snap)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache.version, s.cache.at, s.cache.body = version, s.cfg.Now(), b
	s.mu.Unlock()
	return b, nil
}

// Snapshot reads everything the page shows, now.
func (s *Server) Snapshot(ctx context.Context) (Snapshot, error) {
	now := s.cfg.Now().UTC()
	p, err := s.cfg.Store.Project(ctx, now, s.cfg.StuckAfter)
	if err != nil {
		return Snapshot{}, err
	}
	cafs, err := withUse(ctx, s.cfg.Store, s.cfg.CAFs.List(), s.cfg.Warnings, now)
	if err != nil {
		return Snapshot{}, fmt.Errorf("folios used: %w", err)
	}
	snap := Snapshot{Now: now, Projection: p, Queues: s.cfg.Broker.Stats(), CAFs: cafs}
	if s.cfg.Feed != nil {
		st := s.cfg.Feed.Status()
		snap.Feed = &st
	}
	return snap, nil
}

// Ready reports whether the dashboard can serve: its database answers.
func (s *Server) Ready(ctx context.Context) error { return s.cfg.Store.Ping(ctx) }

// Handler serves the page, its API, the archive's documents and, when
// configured, the HTTP event input.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.view(s.handlePage))
	mux.HandleFunc("GET /login", s.handleLoginPage)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /logout", s.handleLogout)
	mux.HandleFunc("GET /api/snapshot", s.view(s.handleSnapshot))
	mux.HandleFunc("GET /api/stream", s.view(s.handleStream))
	mux.HandleFunc("GET /api/search", s.view(s.handleSearch))
	mux.HandleFunc("GET /api/documents/{dtekey}", s.view(s.handleDocument))
	mux.HandleFunc("GET /archive/dte/{dtekey}", s.view(s.handleArchive("dte")))
	mux.HandleFunc("GET /archive/envio/{dtekey}", s.view(s.handleArchive("envio")))
	mux.HandleFunc("POST /api/replay", s.handleReplay)
	if s.cfg.HTTPEvents {
		mux.HandleFunc("POST /events", s.handleEvent)
		mux.HandleFunc("POST /events/undelivered", s.handleUndelivered)
	}
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// view lets a request through when its role may read.
func (s *Server) view(h func(http.ResponseWriter, *http.Request, role)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, _ := s.auth.who(r)
		if who < roleViewer {
			if r.URL.Path == "/" {
				seeOther(w, "login")
				return
			}
			problem(w, http.StatusUnauthorized, "inicie sesión (login) o envíe Authorization: Bearer TOKEN")
			return
		}
		h(w, r, who)
	}
}

type pageData struct {
	Snapshot   template.JS
	Role       string
	CSRF       string
	CanReplay  bool
	ReplayNote string
	LoginLink  bool
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request, who role) {
	body, err := s.snapshotJSON(r.Context())
	if err != nil {
		s.cfg.Logger.Error("dashboard: snapshot", "error", err)
		http.Error(w, "no se pudo leer la proyección: "+err.Error(), http.StatusInternalServerError)
		return
	}
	d := pageData{Snapshot: template.JS(body), Role: who.String(), CSRF: s.auth.csrf(r), CanReplay: who == roleOperator}
	switch {
	case s.cfg.OperatorToken == "":
		d.ReplayNote = "Reenvío desactivado: defina DASHBOARD_TOKEN."
	case who != roleOperator:
		d.ReplayNote = "Solo lectura: inicie sesión como operador para reenviar."
		d.LoginLink = true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	if err := s.page.Execute(w, d); err != nil {
		s.cfg.Logger.Warn("dashboard: render", "error", err)
	}
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request, _ role) {
	body, err := s.snapshotJSON(r.Context())
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, _ role) {
	docs, err := s.cfg.Store.Search(r.Context(), r.URL.Query().Get("q"))
	if errors.Is(err, ErrBadQuery) {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": docs, "limit": SearchLimit})
}

func (s *Server) handleDocument(w http.ResponseWriter, r *http.Request, _ role) {
	k, err := dtekey.Parse(r.PathValue("dtekey"))
	if err != nil {
		problem(w, http.StatusBadRequest, "dtekey: "+err.Error())
		return
	}
	d, err := s.cfg.Store.Document(r.Context(), k)
	if errors.Is(err, ErrNoDocument) {
		problem(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// handleArchive serves a document's signed DTE or EnvioDTE from the
// archive, byte for byte (ISO-8859-1), for the browser to show.
func (s *Server) handleArchive(which string) func(http.ResponseWriter, *http.Request, role) {
	return func(w http.ResponseWriter, r *http.Request, _ role) {
		k, err := dtekey.Parse(r.PathValue("dtekey"))
		if err != nil {
			problem(w, http.StatusBadRequest, "dtekey: "+err.Error())
			return
		}
		key := ""
		if d, err := s.cfg.Store.Document(r.Context(), k); err == nil {
			key = map[string]string{"dte": d.ArchiveKey, "envio": d.EnvioKey}[which]
		}
		if key == "" {
			// Not in the projection yet: ask the archive.
			switch which {
			case "dte":
				key, _ = archive.DTEObjectKey(k)
			case "envio":
				if st, _, err := archive.New(s.cfg.Archive).LoadState(r.Context(), k); err == nil {
					key = st.EnvioKey
				}
			}
		}
		if key == "" {
			problem(w, http.StatusNotFound, fmt.Sprintf("%s: el archivo no tiene aún un %s de este documento", k, map[string]string{"dte": "DTE firmado", "envio": "EnvioDTE"}[which]))
			return
		}
		obj, err := s.cfg.Archive.Get(r.Context(), key)
		if errors.Is(err, archive.ErrNotFound) {
			problem(w, http.StatusNotFound, key+": no está en el archivo")
			return
		}
		if err != nil {
			problem(w, http.StatusBadGateway, "archivo: "+err.Error())
			return
		}
		ct := obj.ContentType
		if !strings.Contains(ct, "xml") {
			ct = "application/xml; charset=ISO-8859-1"
		}
		name := key[strings.LastIndex(key, "/")+1:]
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", `inline; filename="`+name+`"`)
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_, _ = w.Write(obj.Body)
	}
}

type replayRequest struct {
	ID     int64  `json:"id"`     // a dead letter of the projection
	DTEKey string `json:"dtekey"` // or every parked letter of a document
}

// handleReplay sends a parked dead letter back to the queue it died in
// (shared/deadletter, as `dte dead replay` does). Operators only.
func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	who, byCookie := s.auth.who(r)
	if who != roleOperator {
		if s.cfg.OperatorToken == "" {
			problem(w, http.StatusForbidden, "el reenvío está desactivado: defina DASHBOARD_TOKEN")
			return
		}
		problem(w, http.StatusUnauthorized, "solo un operador puede reenviar: inicie sesión con DASHBOARD_TOKEN")
		return
	}
	if byCookie && !s.auth.checkCSRF(r) {
		problem(w, http.StatusForbidden, "falta el token CSRF ("+headerCSRF+"): recargue la página")
		return
	}
	var req replayRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, "cuerpo: se espera JSON {\"id\": N} o {\"dtekey\": \"…\"}: "+err.Error())
		return
	}
	var match func(deadletter.Letter) bool
	switch {
	case req.ID > 0:
		dl, err := s.cfg.Store.DeadLetterByID(r.Context(), req.ID)
		if err != nil {
			problem(w, http.StatusNotFound, fmt.Sprintf("id: no hay carta muerta %d", req.ID))
			return
		}
		match = func(l deadletter.Letter) bool { return l.MessageID() == dl.MessageID }
	case req.DTEKey != "":
		k, err := dtekey.Parse(req.DTEKey)
		if err != nil {
			problem(w, http.StatusBadRequest, "dtekey: "+err.Error())
			return
		}
		match = func(l deadletter.Letter) bool { return l.DTEKey == k.String() }
	default:
		problem(w, http.StatusBadRequest, "id o dtekey: indique qué reenviar")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	res, err := deadletter.ReplayMatching(ctx, s.cfg.AMQPURL, match)
	if err != nil {
		s.cfg.Logger.Error("dashboard: replay failed", "error", err)
		problem(w, http.StatusBadGateway, "reenvío: "+err.Error())
		return
	}
	var replayed []string
	still := map[string]bool{}
	for _, l := range res.Parked {
		still[l.MessageID()] = true
	}
	for _, l := range res.Replayed {
		replayed = append(replayed, l.MessageID())
		delete(still, l.MessageID())
		s.cfg.Logger.Info("dashboard: dead letter replayed", "dtekey", l.DTEKey, "type", l.Type, "queue", l.Queue, "message_id", l.MessageID())
	}
	if err := s.cfg.Store.ResolveDeadLetters(ctx, replayed, still, s.cfg.Now()); err != nil {
		s.cfg.Logger.Error("dashboard: record replay", "error", err)
	}
	status := http.StatusOK
	msg := fmt.Sprintf("%d reenviada(s), %d omitida(s), %d quedan en dte.dead.parked", len(res.Replayed), len(res.Skipped), res.Left)
	if len(res.Replayed) == 0 && len(res.Skipped) == 0 {
		status, msg = http.StatusNotFound, "ya no está en dte.dead.parked (reenviada o eliminada por otro)"
	}
	writeJSON(w, status, map[string]any{"replayed": len(res.Replayed), "skipped": len(res.Skipped), "left": res.Left, "message": msg})
}

// handleEvent stores one CloudEvent from a Knative Trigger (the broker
// variant), answering 2xx only after it is stored.
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	e, err := cehttp.NewEventFromHTTPRequest(r)
	var b Batch
	if err != nil {
		b.Unreadable = []string{"not a CloudEvent: " + err.Error()}
	} else if f, ferr := FromEvent(*e, s.cfg.Now()); ferr != nil {
		b.Unreadable = []string{ferr.Error()}
	} else {
		b.Facts = []Fact{f}
	}
	if _, err := s.cfg.Store.Apply(r.Context(), b); err != nil {
		s.cfg.Logger.Error("dashboard: cannot store an event", "error", err)
		problem(w, http.StatusServiceUnavailable, "no se pudo guardar: "+err.Error())
		return
	}
	if len(b.Unreadable) > 0 {
		s.cfg.Logger.Warn("dashboard: unreadable event; counted", "error", b.Unreadable[0])
	}
	w.WriteHeader(http.StatusAccepted)
}

// handleUndelivered counts an event a Trigger gave up delivering to the
// dashboard (its dead-letter sink): the page shows it among the unreadable.
func (s *Server) handleUndelivered(w http.ResponseWriter, r *http.Request) {
	what := "an event"
	if e, err := cehttp.NewEventFromHTTPRequest(r); err == nil {
		dk, _ := e.Extensions()["dtekey"].(string)
		what = e.Type() + " " + e.ID() + " (" + dk + ")"
	}
	msg := "not projected after the Trigger's retries: " + what
	if _, err := s.cfg.Store.Apply(r.Context(), Batch{Unreadable: []string{msg}}); err != nil {
		problem(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.cfg.Logger.Error("dashboard: " + msg)
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	msg := ""
	if r.URL.Query().Get("error") != "" {
		msg = `<p class="err">Token incorrecto.</p>`
	}
	fmt.Fprintf(w, loginHTML, msg)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "formulario inválido", http.StatusBadRequest)
		return
	}
	got := s.auth.tokenRole(r.PostFormValue("token"))
	if got == roleNone {
		s.cfg.Logger.Warn("dashboard: failed login", "remote", r.RemoteAddr)
		seeOther(w, "login?error=1")
		return
	}
	s.auth.setCookie(w, r, s.auth.session(got), int(sessionTTL/time.Second))
	seeOther(w, "./")
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.auth.setCookie(w, r, "", -1)
	seeOther(w, "./")
}

// seeOther redirects to a path relative to the page, so that the dashboard
// works behind a path prefix (OpenFaaS's /function/dashboard/).
func seeOther(w http.ResponseWriter, rel string) {
	w.Header().Set("Location", rel)
	w.WriteHeader(http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "title": http.StatusText(status), "detail": detail})
}

const loginHTML = `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>DTE · iniciar sesión</title>
<style>body{font:15px system-ui,sans-serif;margin:4em auto;max-width:28em;color:#1d2733}input{font:inherit;padding:.4em;width:100%%;box-sizing:border-box;margin:.5em 0}button{font:inherit;padding:.4em 1.2em}.err{color:#b3261e}</style>
</head><body><h1>Operaciones DTE</h1>%s
<form method="post" action="login"><label>Token (DASHBOARD_TOKEN para operar, DASHBOARD_VIEW_TOKEN para ver)
<input type="password" name="token" id="token" autocomplete="current-password" autofocus></label>
<button type="submit" id="login">Entrar</button></form><p><a href="./">Volver</a></p></body></html>`

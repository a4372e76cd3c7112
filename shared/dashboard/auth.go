package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Roles: what a request may do.
type role int

const (
	roleNone     role = iota // may see the login page only
	roleViewer               // may read everything
	roleOperator             // may also replay dead letters
)

func (r role) String() string {
	switch r {
	case roleOperator:
		return "operator"
	case roleViewer:
		return "viewer"
	}
	return "none"
}

const (
	cookieName   = "dte_dashboard"
	sessionTTL   = 12 * time.Hour
	headerCSRF   = "X-CSRF-Token"
	bearerPrefix = "Bearer "
)

// auth decides roles from tokens. The operator token (DASHBOARD_TOKEN)
// allows replays; without it the dashboard is read-only for everyone. The
// view token (DASHBOARD_VIEW_TOKEN), when set, is needed to see anything.
// A login sets a cookie that names the role and its expiry, signed with a
// key derived from the tokens (so it survives restarts and dies when a
// token changes); an API client may send the token as a Bearer header.
type auth struct {
	operator, viewer string
	key              []byte
	now              func() time.Time
	secureCookie     bool
}

func newAuth(operator, viewer string, now func() time.Time) *auth {
	m := hmac.New(sha256.New, []byte(operator+"\x00"+viewer))
	m.Write([]byte("dte-dashboard-session"))
	return &auth{operator: operator, viewer: viewer, key: m.Sum(nil), now: now}
}

// anonymous is the role of a request without credentials.
func (a *auth) anonymous() role {
	if a.viewer == "" {
		return roleViewer
	}
	return roleNone
}

// tokenRole is the role a token grants.
func (a *auth) tokenRole(tok string) role {
	switch {
	case tok == "":
		return roleNone
	case a.operator != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.operator)) == 1:
		return roleOperator
	case a.viewer != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.viewer)) == 1:
		return roleViewer
	}
	return roleNone
}

func (a *auth) sign(msg string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// session is the cookie value for a role: role|expiry|signature.
func (a *auth) session(r role) string {
	msg := r.String() + "|" + strconv.FormatInt(a.now().Add(sessionTTL).Unix(), 10)
	return msg + "|" + a.sign(msg)
}

func (a *auth) readSession(v string) role {
	parts := strings.Split(v, "|")
	if len(parts) != 3 {
		return roleNone
	}
	msg := parts[0] + "|" + parts[1]
	if !hmac.Equal([]byte(a.sign(msg)), []byte(parts[2])) {
		return roleNone
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || a.now().Unix() > exp {
		return roleNone
	}
	switch parts[0] {
	case "operator":
		return roleOperator
	case "viewer":
		return roleViewer
	}
	return roleNone
}

// who is the role of a request, and whether it came with a cookie (which
// then needs the CSRF token on writes).
func (a *auth) who(r *http.Request) (role, bool) {
	best := a.anonymous()
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, bearerPrefix) {
		if got := a.tokenRole(strings.TrimPrefix(h, bearerPrefix)); got > best {
			return got, false
		}
	}
	if c, err := r.Cookie(cookieName); err == nil {
		if got := a.readSession(c.Value); got > best {
			return got, true
		}
	}
	return best, false
}

// csrf is the token a page must echo on writes made with its cookie.
func (a *auth) csrf(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return a.sign("csrf|" + c.Value)
}

func (a *auth) checkCSRF(r *http.Request) bool {
	want := a.csrf(r)
	return want != "" && hmac.Equal([]byte(want), []byte(r.Header.Get(headerCSRF)))
}

func (a *auth) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || a.secureCookie,
	})
}

package web

import (
	"bytes"
	"crypto/subtle"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/templates/ui"
)

const sessionName = "jingdesk"

// Keys inside the session cookie.
const (
	keyUserID = "uid"
	keyEpoch  = "epoch"
	keyAuthAt = "auth_at" // when the user signed in: the absolute timeout counts from here
	keySeen   = "seen"    // last activity: the idle timeout counts from here
	keyCSRF   = "csrf"
	keyLang   = "lang"
)

// Echo context keys.
const (
	ctxState  = "jingdesk.state"
	ctxLogger = "jingdesk.logger"
)

func newCookieStore(d Deps) *sessions.CookieStore {
	store := sessions.NewCookieStore(d.SessionHashKey, d.SessionBlockKey)
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(d.AbsoluteTimeout / time.Second),
		HttpOnly: true,
		Secure:   d.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	store.MaxAge(store.Options.MaxAge) // also bounds the signed timestamp inside the cookie
	for _, codec := range store.Codecs {
		if sc, ok := codec.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(sessionSerializer{})
		}
	}
	return store
}

// requestState is what one request knows about its visitor.
type requestState struct {
	sess  *sessions.Session
	dirty bool
	user  *db.User // nil when signed out
	loc   *i18n.Localizer
}

func state(c echo.Context) *requestState {
	st, _ := c.Get(ctxState).(*requestState)
	return st
}

// currentUser is the signed-in user, or nil.
func currentUser(c echo.Context) *db.User {
	if st := state(c); st != nil {
		return st.user
	}
	return nil
}

// loadSession decodes the cookie, checks the signed-in user is still
// allowed in, picks the language, and saves the cookie back (only when it
// changed) just before the response is written.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sessionless(c.Path()) {
			return next(c)
		}
		req := c.Request()
		sess, err := s.sessions.Get(req, sessionName)
		if err != nil {
			// A cookie from old keys or tampered with: start afresh.
			sess, _ = s.sessions.New(req, sessionName)
		}
		st := &requestState{sess: sess}
		c.Set(ctxState, st)
		if tok, _ := sess.Values[keyCSRF].(string); tok == "" {
			sess.Values[keyCSRF] = secret.Token(32)
			st.dirty = true
		}
		s.authenticate(c, st)
		st.loc = s.Catalog.Localizer(s.chooseLang(c, st))
		c.SetRequest(req.WithContext(i18n.WithLocalizer(req.Context(), st.loc)))
		c.Response().Before(func() {
			if st.dirty {
				if err := st.sess.Save(c.Request(), c.Response().Writer); err != nil {
					s.log(c).Error("save session", "error", err)
				}
			}
		})
		return next(c)
	}
}

// sessionless routes never read or write the cookie: assets and health
// checks are requested often and must stay cheap.
func sessionless(routePath string) bool {
	return routePath == "/static/*" || routePath == "/healthz"
}

// authenticate sets st.user when the session names a user who may still be
// signed in; otherwise it clears the sign-in from the session.
func (s *Server) authenticate(c echo.Context, st *requestState) {
	uid, _ := st.sess.Values[keyUserID].(int64)
	if uid == 0 {
		return
	}
	now := s.Now().Unix()
	epoch, _ := st.sess.Values[keyEpoch].(int64)
	authAt, _ := st.sess.Values[keyAuthAt].(int64)
	seen, _ := st.sess.Values[keySeen].(int64)
	u, err := s.Store.User(c.Request().Context(), uid)
	switch {
	case err != nil, u.Disabled, u.SessionEpoch != epoch,
		now-authAt > int64(s.AbsoluteTimeout/time.Second),
		now-seen > int64(s.IdleTimeout/time.Second):
		s.endSignIn(st)
		return
	}
	st.user = &u
	// Refresh the idle clock at most once a minute, so most responses set no cookie.
	if now-seen >= 60 {
		st.sess.Values[keySeen] = now
		st.dirty = true
	}
}

// beginSignIn records a successful sign-in in the session, with a fresh CSRF token.
func (s *Server) beginSignIn(st *requestState, u db.User) {
	now := s.Now().Unix()
	st.sess.Values[keyUserID] = u.ID
	st.sess.Values[keyEpoch] = u.SessionEpoch
	st.sess.Values[keyAuthAt] = now
	st.sess.Values[keySeen] = now
	st.sess.Values[keyCSRF] = secret.Token(32)
	st.user = &u
	st.dirty = true
}

// endSignIn forgets the user but keeps the language; the CSRF token is rotated.
func (s *Server) endSignIn(st *requestState) {
	for _, k := range []string{keyUserID, keyEpoch, keyAuthAt, keySeen} {
		delete(st.sess.Values, k)
	}
	st.sess.Values[keyCSRF] = secret.Token(32)
	st.user = nil
	st.dirty = true
}

// chooseLang: the signed-in user's saved choice, then the session's, then Accept-Language.
func (s *Server) chooseLang(c echo.Context, st *requestState) string {
	if st.user != nil && i18n.Supported(st.user.Lang) {
		return st.user.Lang
	}
	if l, _ := st.sess.Values[keyLang].(string); i18n.Supported(l) {
		return l
	}
	return s.Catalog.Match(c.Request().Header.Get("Accept-Language"))
}

func csrfToken(c echo.Context) string {
	tok, _ := state(c).sess.Values[keyCSRF].(string)
	return tok
}

// checkCSRF refuses every unsafe method whose token (form field _csrf or
// header X-CSRF-Token) does not match the session's, before any handler runs.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if isCSRFExempt(c.Path()) {
			return next(c)
		}
		sent := c.Request().Header.Get("X-CSRF-Token")
		switch {
		case sent != "":
		case isMultipart(c.Request()):
			// An upload: the token is the form's first field, read without
			// buffering the file behind it (the handler streams that).
			sent = multipartCSRF(c.Request())
		default:
			sent = c.FormValue("_csrf")
		}
		want := csrfToken(c)
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
			s.log(c).Warn("csrf token missing or wrong", "path", c.Request().URL.Path)
			return echo.NewHTTPError(http.StatusForbidden, errCSRF)
		}
		return next(c)
	}
}

// addFlash queues a message for the next page the user sees.
func addFlash(c echo.Context, kind, text string) {
	st := state(c)
	st.sess.AddFlash(ui.Flash{Kind: kind, Text: text})
	st.dirty = true
}

func takeFlashes(c echo.Context) []ui.Flash {
	st := state(c)
	raw := st.sess.Flashes()
	if len(raw) == 0 {
		return nil
	}
	st.dirty = true
	out := make([]ui.Flash, 0, len(raw))
	for _, f := range raw {
		if fl, ok := f.(ui.Flash); ok {
			out = append(out, fl)
		}
	}
	return out
}

// multipartCSRF reads the CSRF token of a multipart form from its first
// part (the form puts the hidden _csrf field before the file) without
// consuming the body: what it read is put back in front of the rest.
func multipartCSRF(r *http.Request) string {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" || r.Body == nil {
		return ""
	}
	var seen bytes.Buffer
	body := r.Body
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(body, 16<<10), &seen), params["boundary"])
	tok := ""
	if part, err := mr.NextPart(); err == nil && part.FormName() == "_csrf" && part.FileName() == "" {
		b, _ := io.ReadAll(io.LimitReader(part, 256))
		tok = strings.TrimSpace(string(b))
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(seen.Bytes()), body), body}
	return tok
}

// isMultipart reports whether a request carries a multipart form.
func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/form-data")
}

package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
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
	keySession = "sid" // the sign-in's token: db.Session holds its hash, the account and the clocks
	keyCSRF    = "csrf"
	keyLang    = "lang"
)

// Echo context keys.
const (
	ctxState  = "jingdesk.state"
	ctxLogger = "jingdesk.logger"
)

// signIns are the server-side sessions behind the cookie: the middleware
// that loads the visitor and their language on each request, and starting
// and ending a sign-in (the auth area and the users area use those).
type signIns struct {
	*kit
	cookies *sessions.CookieStore
	store   sessionStore
	catalog *i18n.Catalog
	limits  db.SessionLimits
}

// sessionStore is what sessions need of the store.
type sessionStore interface {
	SessionUser(ctx context.Context, token string, lim db.SessionLimits) (db.Session, db.User, error)
	TouchSession(ctx context.Context, id int64, addr string) error
	CreateSession(ctx context.Context, userID int64, token, userAgent, addr string, lim db.SessionLimits) (db.Session, error)
	EndSession(ctx context.Context, id int64) error
}

func newSignIns(k *kit, d Deps) *signIns {
	return &signIns{kit: k, cookies: newCookieStore(d), store: d.Store, catalog: d.Catalog,
		limits: db.SessionLimits{Idle: int64(d.IdleTimeout / time.Second), Absolute: int64(d.AbsoluteTimeout / time.Second)}}
}

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
	sess   *sessions.Session
	dirty  bool
	user   *db.User   // nil when signed out
	signIn db.Session // the server-side session of user
	loc    *i18n.Localizer
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

// load decodes the cookie, checks the signed-in user is still
// allowed in, picks the language, and saves the cookie back (only when it
// changed) just before the response is written.
func (si *signIns) load(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sessionless(c.Path()) {
			return next(c)
		}
		req := c.Request()
		sess, err := si.cookies.Get(req, sessionName)
		if err != nil {
			// A cookie from old keys or tampered with: start afresh.
			sess, _ = si.cookies.New(req, sessionName)
		}
		st := &requestState{sess: sess}
		c.Set(ctxState, st)
		if tok, _ := sess.Values[keyCSRF].(string); tok == "" {
			sess.Values[keyCSRF] = secret.Token(32)
			st.dirty = true
		}
		si.authenticate(c, st)
		st.loc = si.catalog.Localizer(si.chooseLang(c, st))
		c.SetRequest(req.WithContext(i18n.WithLocalizer(req.Context(), st.loc)))
		c.Response().Before(func() {
			if st.dirty {
				if err := st.sess.Save(c.Request(), c.Response().Writer); err != nil {
					si.log(c).Error("save session", "error", err)
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

// authenticate sets st.user when the cookie's token names a live
// server-side session of an account that may still sign in; otherwise it
// clears the sign-in from the cookie. The timeouts are the session row's,
// so a copied cookie cannot outlive a sign-out or extend itself.
func (si *signIns) authenticate(c echo.Context, st *requestState) {
	token, _ := st.sess.Values[keySession].(string)
	if token == "" {
		return
	}
	ctx := c.Request().Context()
	sess, u, err := si.store.SessionUser(ctx, token, si.limits)
	if err != nil || u.Disabled {
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			si.log(c).Error("read session", "error", err)
		}
		si.forget(st)
		return
	}
	st.user, st.signIn = &u, sess
	// Move the idle clock on at most once a minute, so most requests write nothing.
	if si.now().Unix()-sess.LastSeenAt >= 60 {
		if err := si.store.TouchSession(ctx, sess.ID, c.RealIP()); err != nil {
			si.log(c).Warn("touch session", "error", err)
		}
	}
}

// begin starts a server-side session for u and puts its token in the
// cookie, with a fresh CSRF token. A session the cookie had is ended.
func (si *signIns) begin(c echo.Context, st *requestState, u db.User) error {
	si.end(c, st)
	token := secret.Token(32)
	sess, err := si.store.CreateSession(c.Request().Context(), u.ID, token, c.Request().UserAgent(), c.RealIP(), si.limits)
	if err != nil {
		return err
	}
	st.sess.Values[keySession] = token
	st.sess.Values[keyCSRF] = secret.Token(32)
	st.user, st.signIn = &u, sess
	st.dirty = true
	return nil
}

// end ends the server-side session (a copy of the cookie is refused
// from now on) and forgets it in the cookie.
func (si *signIns) end(c echo.Context, st *requestState) {
	if st.signIn.ID != 0 {
		if err := si.store.EndSession(c.Request().Context(), st.signIn.ID); err != nil {
			si.log(c).Error("end session", "error", err)
		}
	}
	if _, had := st.sess.Values[keySession]; had {
		si.forget(st)
	}
}

// forget clears the sign-in from the cookie but keeps the language;
// the CSRF token is rotated.
func (si *signIns) forget(st *requestState) {
	delete(st.sess.Values, keySession)
	st.sess.Values[keyCSRF] = secret.Token(32)
	st.user, st.signIn = nil, db.Session{}
	st.dirty = true
}

// chooseLang: the signed-in user's saved choice, then the session's, then Accept-Language.
func (si *signIns) chooseLang(c echo.Context, st *requestState) string {
	if st.user != nil && i18n.Supported(st.user.Lang) {
		return st.user.Lang
	}
	if l, _ := st.sess.Values[keyLang].(string); i18n.Supported(l) {
		return l
	}
	return si.catalog.Match(c.Request().Header.Get("Accept-Language"))
}

func csrfToken(c echo.Context) string {
	tok, _ := state(c).sess.Values[keyCSRF].(string)
	return tok
}

// checkCSRF refuses every unsafe method whose token (form field _csrf or
// header X-CSRF-Token) does not match the session's, before any handler runs.
func (k *kit) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
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
			k.log(c).Warn("csrf token missing or wrong", "path", loggedPath(c))
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

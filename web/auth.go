package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	authview "github.com/jingdesk/jingdesk/templates/auth"
	"github.com/jingdesk/jingdesk/templates/ui"
)

func (s *Server) showLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.renderLogin(c, http.StatusOK, authview.LoginForm{Next: c.QueryParam("next")})
}

func (s *Server) renderLogin(c echo.Context, status int, f authview.LoginForm) error {
	return s.render(c, status, View{Title: t(c, "login.title"), Body: authview.Login(f), Bare: true})
}

// login counts the attempt against the account and the address before
// the password is checked, so a locked account or address costs an
// attacker no bcrypt comparison, and parallel guesses spend the same
// budget as sequential ones.
func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	username := strings.TrimSpace(c.FormValue("username"))
	form := authview.LoginForm{Username: username, Next: c.FormValue("next")}
	accountKey := "user:" + strings.ToLower(username)
	attempt, wait := s.throttle.Begin(accountKey, "ip:"+c.RealIP())
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		s.audit(c, db.AuditEntry{Action: "auth.login", Object: "user:" + username, Username: username,
			Summary: "sign-in refused: too many attempts", Outcome: db.OutcomeDenied})
		c.Response().Header().Set("Retry-After", itoa(secs))
		form.Error = t(c, "login.throttled", "Seconds", secs)
		return s.renderLogin(c, http.StatusTooManyRequests, form)
	}
	defer attempt.Fail() // unless it succeeds below
	u, err := s.Store.UserByName(ctx, username)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if !s.verifyPassword(u.PasswordHash, c.FormValue("password")) || u.Disabled {
		s.audit(c, db.AuditEntry{Action: "auth.login", Object: "user:" + username, Username: username,
			Summary: "wrong username or password, or account disabled", Outcome: db.OutcomeFailed})
		form.Error = t(c, "login.failed")
		return s.renderLogin(c, http.StatusUnauthorized, form)
	}
	attempt.Succeed(accountKey)
	st := state(c)
	if err := s.beginSignIn(c, st, u); err != nil {
		return err
	}
	s.adoptSessionLang(ctx, st, u)
	if err := s.Store.TouchLogin(ctx, u.ID); err != nil {
		s.log(c).Warn("record last login", "error", err)
	}
	s.audit(c, db.AuditEntry{Action: "auth.login", Object: "user:" + u.Username, Summary: "signed in"})
	return c.Redirect(http.StatusSeeOther, safeNext(form.Next))
}

// adoptSessionLang: a user with no saved language keeps the one chosen on
// the sign-in page, and it becomes theirs.
func (s *Server) adoptSessionLang(ctx context.Context, st *requestState, u db.User) {
	if i18n.Supported(u.Lang) {
		return
	}
	if l, _ := st.sess.Values[keyLang].(string); i18n.Supported(l) {
		if err := s.Store.SetUserLang(ctx, u.ID, l); err == nil {
			st.user.Lang = l
		}
	}
}

func (s *Server) logout(c echo.Context) error {
	s.audit(c, db.AuditEntry{Action: "auth.logout", Object: "user:" + currentUser(c).Username, Summary: "signed out"})
	s.endSignIn(c, state(c))
	return redirectWithFlash(c, ui.FlashInfo, t(c, "login.signed_out"), "/login")
}

// switchLang remembers the choice in the session and, when signed in, on the account.
func (s *Server) switchLang(c echo.Context) error {
	lang := c.FormValue("lang")
	if !i18n.Supported(lang) {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	st := state(c)
	st.sess.Values[keyLang] = lang
	st.dirty = true
	if u := st.user; u != nil {
		if err := s.Store.SetUserLang(c.Request().Context(), u.ID, lang); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// setupTokenValid compares in constant time; an empty configured token never matches.
func (s *Server) setupTokenValid(token string) bool {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.SetupToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.SetupToken)) == 1
}

func (s *Server) showSetup(c echo.Context) error {
	if !s.setupTokenValid(c.QueryParam("token")) {
		return s.render(c, http.StatusNotFound, View{Title: t(c, "setup.unavailable_title"), Body: authview.SetupUnavailable(), Bare: true})
	}
	return s.renderSetup(c, http.StatusOK, authview.SetupForm{Token: c.QueryParam("token")})
}

func (s *Server) renderSetup(c echo.Context, status int, f authview.SetupForm) error {
	return s.render(c, status, View{Title: t(c, "setup.title"), Body: authview.Setup(f), Bare: true})
}

// setup creates the first administrator. The token works once: it is
// cleared on success, and the store refuses if any account exists already.
func (s *Server) setup(c echo.Context) error {
	ctx := c.Request().Context()
	f := authview.SetupForm{
		Token:       c.FormValue("token"),
		Username:    strings.TrimSpace(c.FormValue("username")),
		DisplayName: strings.TrimSpace(c.FormValue("display_name")),
	}
	if !s.setupTokenValid(f.Token) {
		s.audit(c, db.AuditEntry{Action: "setup.admin", Summary: "setup with a wrong or used token", Outcome: db.OutcomeDenied})
		return s.render(c, http.StatusNotFound, View{Title: t(c, "setup.unavailable_title"), Body: authview.SetupUnavailable(), Bare: true})
	}
	password := c.FormValue("password")
	f.Errors = validateNewAccount(c, f.Username, password, c.FormValue("password_confirm"))
	if len(f.Errors) > 0 {
		return s.renderSetup(c, http.StatusUnprocessableEntity, f)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := s.Store.CreateFirstAdmin(ctx, db.NewUser{Username: f.Username, DisplayName: f.DisplayName,
		PasswordHash: hash, Lang: state(c).loc.Lang})
	if errors.Is(err, db.ErrConflict) {
		s.clearSetupToken()
		return s.render(c, http.StatusNotFound, View{Title: t(c, "setup.unavailable_title"), Body: authview.SetupUnavailable(), Bare: true})
	}
	if err != nil {
		return err
	}
	s.clearSetupToken()
	if err := s.beginSignIn(c, state(c), u); err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "setup.admin", Object: "user:" + u.Username, Summary: "first administrator created"})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "setup.done", "Name", u.Username), "/")
}

func (s *Server) clearSetupToken() {
	s.setupMu.Lock()
	s.SetupToken = ""
	s.setupMu.Unlock()
}

// validateNewAccount checks a new username and password; the map holds a
// translated message per failing field.
func validateNewAccount(c echo.Context, username, password, confirm string) map[string]string {
	errs := map[string]string{}
	if msg := validateUsername(c, username); msg != "" {
		errs["username"] = msg
	}
	for k, v := range validateNewPassword(c, password, confirm) {
		errs[k] = v
	}
	return errs
}

func validateUsername(c echo.Context, username string) string {
	n := utf8.RuneCountInString(username)
	if n < 2 || n > 64 {
		return t(c, "user.error.username_length")
	}
	if strings.ContainsAny(username, " \t\r\n/\\:") {
		return t(c, "user.error.username_chars")
	}
	return ""
}

func validateNewPassword(c echo.Context, password, confirm string) map[string]string {
	errs := map[string]string{}
	if text, refused := userMessage(c, auth.CheckPolicy(password)); refused {
		errs["password"] = text
	}
	if password != confirm {
		errs["password_confirm"] = t(c, "user.error.password_mismatch")
	}
	return errs
}

// audit records an entry with the request's who/where filled in. An audit
// failure is logged, never shown: the user's action already happened.
func (s *Server) audit(c echo.Context, e db.AuditEntry) {
	if u := currentUser(c); u != nil && e.UserID == 0 {
		e.UserID, e.Username = u.ID, u.Username
	}
	e.RemoteAddr = c.RealIP()
	e.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if err := s.Store.Audit(c.Request().Context(), e); err != nil {
		s.log(c).Error("write audit log", "action", e.Action, "error", err)
	}
}

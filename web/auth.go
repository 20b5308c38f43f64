package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	authview "github.com/jingdesk/jingdesk/templates/auth"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// defaultThrottleWindow is how long failed sign-ins count against an
// account and an address (five free, then waits that grow).
const defaultThrottleWindow = 15 * time.Minute

// authArea is signing in and out, the first administrator's setup, the
// language switch, and (account.go) a user's own password and sessions.
type authArea struct {
	*kit
	users   authStore
	signIns *signIns
	// throttle counts failed sign-ins per account and per address.
	throttle *auth.Throttle
	// verifyPassword is auth.VerifyPassword; tests count the checks.
	verifyPassword func(hash, password string) bool
	setupMu        sync.Mutex
	setupToken     string // cleared once the first administrator exists
}

// authStore is what signing in, setup and the account page need of the store.
type authStore interface {
	UserByName(ctx context.Context, username string) (db.User, error)
	TouchLogin(ctx context.Context, id int64) error
	SetUserLang(ctx context.Context, id int64, lang string) error
	CreateFirstAdmin(ctx context.Context, n db.NewUser) (db.User, error)
	passwordStore
	UserSessions(ctx context.Context, userID int64, lim db.SessionLimits) ([]db.Session, error)
	EndUserSession(ctx context.Context, userID, id int64) error
	EndUserSessions(ctx context.Context, userID, keep int64) (int64, error)
}

// passwordStore sets an account's password hash (which ends its sessions).
type passwordStore interface {
	SetUserPassword(ctx context.Context, id int64, hash string) (int64, error)
}

func (a *authArea) showLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return a.renderLogin(c, http.StatusOK, authview.LoginForm{Next: c.QueryParam("next")})
}

func (a *authArea) renderLogin(c echo.Context, status int, f authview.LoginForm) error {
	return a.render(c, status, View{Title: t(c, "login.title"), Body: authview.Login(f), Bare: true})
}

// login counts the attempt against the account and the address before
// the password is checked, so a locked account or address costs an
// attacker no bcrypt comparison, and parallel guesses spend the same
// budget as sequential ones.
func (a *authArea) login(c echo.Context) error {
	ctx := c.Request().Context()
	username := strings.TrimSpace(c.FormValue("username"))
	form := authview.LoginForm{Username: username, Next: c.FormValue("next")}
	accountKey := "user:" + strings.ToLower(username)
	attempt, wait := a.throttle.Begin(accountKey, "ip:"+c.RealIP())
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		a.audit(c, db.AuditEntry{Action: "auth.login", Object: "user:" + username, Username: username,
			Summary: summary("signin_throttled").Encode(), Outcome: db.OutcomeDenied})
		c.Response().Header().Set("Retry-After", itoa(secs))
		form.Error = t(c, "login.throttled", "Seconds", secs)
		return a.renderLogin(c, http.StatusTooManyRequests, form)
	}
	defer attempt.Fail() // unless it succeeds below
	u, err := a.users.UserByName(ctx, username)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if !a.verifyPassword(u.PasswordHash, c.FormValue("password")) || u.Disabled {
		a.audit(c, db.AuditEntry{Action: "auth.login", Object: "user:" + username, Username: username,
			Summary: summary("signin_failed").Encode(), Outcome: db.OutcomeFailed})
		form.Error = t(c, "login.failed")
		return a.renderLogin(c, http.StatusUnauthorized, form)
	}
	attempt.Succeed(accountKey)
	st := state(c)
	if err := a.signIns.begin(c, st, u); err != nil {
		return err
	}
	a.adoptSessionLang(ctx, st, u)
	if err := a.users.TouchLogin(ctx, u.ID); err != nil {
		a.log(c).Warn("record last login", "error", err)
	}
	a.audit(c, db.AuditEntry{Action: "auth.login", Object: "user:" + u.Username, Summary: summary("signed_in").Encode()})
	return c.Redirect(http.StatusSeeOther, safeNext(form.Next))
}

// adoptSessionLang: a user with no saved language keeps the one chosen on
// the sign-in page, and it becomes theirs.
func (a *authArea) adoptSessionLang(ctx context.Context, st *requestState, u db.User) {
	if i18n.Supported(u.Lang) {
		return
	}
	if l, _ := st.sess.Values[keyLang].(string); i18n.Supported(l) {
		if err := a.users.SetUserLang(ctx, u.ID, l); err == nil {
			st.user.Lang = l
		}
	}
}

func (a *authArea) logout(c echo.Context) error {
	a.audit(c, db.AuditEntry{Action: "auth.logout", Object: "user:" + currentUser(c).Username, Summary: summary("signed_out").Encode()})
	a.signIns.end(c, state(c))
	return redirectWithFlash(c, ui.FlashInfo, t(c, "login.signed_out"), "/login")
}

// switchLang remembers the choice in the session and, when signed in, on the account.
func (a *authArea) switchLang(c echo.Context) error {
	lang := c.FormValue("lang")
	if !i18n.Supported(lang) {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	st := state(c)
	st.sess.Values[keyLang] = lang
	st.dirty = true
	if u := st.user; u != nil {
		if err := a.users.SetUserLang(c.Request().Context(), u.ID, lang); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

// setupTokenValid compares in constant time; an empty configured token never matches.
func (a *authArea) setupTokenValid(token string) bool {
	a.setupMu.Lock()
	defer a.setupMu.Unlock()
	return a.setupToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.setupToken)) == 1
}

func (a *authArea) showSetup(c echo.Context) error {
	if !a.setupTokenValid(c.QueryParam("token")) {
		return a.render(c, http.StatusNotFound, View{Title: t(c, "setup.unavailable_title"), Body: authview.SetupUnavailable(), Bare: true})
	}
	return a.renderSetup(c, http.StatusOK, authview.SetupForm{Token: c.QueryParam("token")})
}

func (a *authArea) renderSetup(c echo.Context, status int, f authview.SetupForm) error {
	return a.render(c, status, View{Title: t(c, "setup.title"), Body: authview.Setup(f), Bare: true})
}

// setup creates the first administrator. The token works once: it is
// cleared on success, and the store refuses if any account exists already.
func (a *authArea) setup(c echo.Context) error {
	ctx := c.Request().Context()
	f := authview.SetupForm{
		Token:       c.FormValue("token"),
		Username:    strings.TrimSpace(c.FormValue("username")),
		DisplayName: strings.TrimSpace(c.FormValue("display_name")),
	}
	if !a.setupTokenValid(f.Token) {
		a.audit(c, db.AuditEntry{Action: "setup.admin", Summary: summary("setup_bad_token").Encode(), Outcome: db.OutcomeDenied})
		return a.render(c, http.StatusNotFound, View{Title: t(c, "setup.unavailable_title"), Body: authview.SetupUnavailable(), Bare: true})
	}
	password := c.FormValue("password")
	f.Errors = validateNewAccount(c, f.Username, password, c.FormValue("password_confirm"))
	if len(f.Errors) > 0 {
		return a.renderSetup(c, http.StatusUnprocessableEntity, f)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := a.users.CreateFirstAdmin(ctx, db.NewUser{Username: f.Username, DisplayName: f.DisplayName,
		PasswordHash: hash, Lang: state(c).loc.Lang})
	if errors.Is(err, db.ErrConflict) {
		a.clearSetupToken()
		return a.render(c, http.StatusNotFound, View{Title: t(c, "setup.unavailable_title"), Body: authview.SetupUnavailable(), Bare: true})
	}
	if err != nil {
		return err
	}
	a.clearSetupToken()
	if err := a.signIns.begin(c, state(c), u); err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "setup.admin", Object: "user:" + u.Username, Summary: summary("setup_admin").Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "setup.done", "Name", u.Username), "/")
}

func (a *authArea) clearSetupToken() {
	a.setupMu.Lock()
	a.setupToken = ""
	a.setupMu.Unlock()
}

// validateNewAccount checks a new username and password; the map holds a
// translated message per failing field.
func validateNewAccount(c echo.Context, username, password, confirm string) map[string]string {
	errs := map[string]string{}
	if text, refused := userMessage(c, auth.CheckUsername(username)); refused {
		errs["username"] = text
	}
	for k, v := range validateNewPassword(c, password, confirm) {
		errs[k] = v
	}
	return errs
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

package web

import (
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

func (a *authArea) showAccount(c echo.Context) error {
	return a.renderAccount(c, http.StatusOK, nil)
}

func (a *authArea) renderAccount(c echo.Context, status int, errs map[string]string) error {
	u := currentUser(c)
	sessions, err := a.accountSessions(c)
	if err != nil {
		return err
	}
	v := settings.AccountView{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, LastLoginAt: u.LastLoginAt,
		Errors: errs, Sessions: sessions}
	return a.render(c, status, View{Title: t(c, "settings.tab.account"), Section: "settings", Body: settings.Account(v)})
}

// changeOwnPassword needs the current password; the new one ends every
// session of this user, and this browser is signed in afresh.
func (a *authArea) changeOwnPassword(c echo.Context) error {
	u := currentUser(c)
	if !auth.VerifyPassword(u.PasswordHash, c.FormValue("current_password")) {
		a.audit(c, db.AuditEntry{Action: "user.password", Object: "user:" + u.Username,
			Summary: summary("password_wrong_current").Encode(), Outcome: db.OutcomeFailed})
		return a.renderAccount(c, http.StatusUnprocessableEntity, map[string]string{"current_password": t(c, "account.error.current_wrong")})
	}
	password := c.FormValue("password")
	if errs := validateNewPassword(c, password, c.FormValue("password_confirm")); len(errs) > 0 {
		return a.renderAccount(c, http.StatusUnprocessableEntity, errs)
	}
	if err := setPassword(c, a.users, u.ID, password); err != nil {
		return err
	}
	if err := a.signIns.begin(c, state(c), *u); err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "user.password", Object: "user:" + u.Username, Summary: summary("password_changed_own").Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "account.password_changed"), "/settings/account")
}

// setPassword hashes and stores a new password, which ends every session
// of the account (the auth and users areas both set passwords).
func setPassword(c echo.Context, users passwordStore, id int64, password string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = users.SetUserPassword(c.Request().Context(), id, hash)
	return err
}

// accountSessions lists the user's live sessions for the Account page.
func (a *authArea) accountSessions(c echo.Context) ([]settings.SessionEntry, error) {
	st := state(c)
	list, err := a.users.UserSessions(c.Request().Context(), st.user.ID, a.signIns.limits)
	if err != nil {
		return nil, err
	}
	// This browser first, then the others most recently used first.
	out := make([]settings.SessionEntry, 0, len(list))
	for _, x := range list {
		e := settings.SessionEntry{ID: x.ID, Device: describeUserAgent(x.UserAgent), Address: x.RemoteAddr,
			SignedInAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, Current: x.ID == st.signIn.ID}
		if e.Current {
			out = append([]settings.SessionEntry{e}, out...)
		} else {
			out = append(out, e)
		}
	}
	return out, nil
}

// endOwnSession signs one of the user's sessions out; ending the one in
// use is signing out.
func (a *authArea) endOwnSession(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	st := state(c)
	if id == st.signIn.ID {
		return a.logout(c)
	}
	if err := a.users.EndUserSession(c.Request().Context(), st.user.ID, id); err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "auth.session_end", Object: "user:" + st.user.Username, Summary: summary("session_end_own").Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "account.session_ended"), "/settings/account")
}

// endOtherOwnSessions signs the user out everywhere but in this browser.
func (a *authArea) endOtherOwnSessions(c echo.Context) error {
	st := state(c)
	n, err := a.users.EndUserSessions(c.Request().Context(), st.user.ID, st.signIn.ID)
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "auth.session_end", Object: "user:" + st.user.Username,
		Summary: summary("sessions_end_others", msg.Int("Count", n)).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "account.sessions_ended", "Count", n), "/settings/account")
}

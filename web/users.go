package web

import (
	"context"
	"errors"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

const usersPath = "/settings/users"

// Session keys holding a generated password until the users page shows it.
// The cookie is encrypted, and the page that shows it deletes it.
const (
	keyRevealUser     = "reveal_user"
	keyRevealPassword = "reveal_password"
)

// usersArea is Settings → Users (administrators): accounts, their roles,
// passwords and sessions.
type usersArea struct {
	*kit
	users   userAdminStore
	signIns *signIns
}

// userAdminStore is what managing accounts needs of the store.
type userAdminStore interface {
	ListUsers(ctx context.Context) ([]db.User, error)
	CreateUser(ctx context.Context, n db.NewUser) (db.User, error)
	User(ctx context.Context, id int64) (db.User, error)
	SetUserRole(ctx context.Context, id int64, role string) error
	SetUserDisabled(ctx context.Context, id int64, disabled bool) error
	EndUserSessions(ctx context.Context, userID, keep int64) (int64, error)
	passwordStore
}

func (a *usersArea) showUsers(c echo.Context) error {
	return a.renderUsers(c, http.StatusOK, settings.UsersView{
		Invite: blankInvite(),
		Reveal: takeReveal(c),
	})
}

// renderUsers fills in the accounts and renders the page; v carries the
// invite form as typed and any per-row message.
func (a *usersArea) renderUsers(c echo.Context, status int, v settings.UsersView, rowErrors ...settings.UserEntry) error {
	users, err := a.users.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	me := currentUser(c).ID
	for _, u := range users {
		e := userEntry(u, me)
		for _, re := range rowErrors {
			if re.ID == u.ID {
				e.Error, e.PasswordError = re.Error, re.PasswordError
			}
		}
		v.Users = append(v.Users, e)
	}
	return a.render(c, status, View{Title: t(c, "settings.tab.users"), Section: "settings", Body: settings.Users(v)})
}

// blankInvite is the create form before anything is typed; most new
// accounts are marketers.
func blankInvite() settings.InviteForm { return settings.InviteForm{Role: roles.Marketer} }

func userEntry(u db.User, me int64) settings.UserEntry {
	return settings.UserEntry{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role,
		Disabled: u.Disabled, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, Self: u.ID == me}
}

// createUser makes an account. An empty password field means "generate
// one": it is shown to the administrator once, on the page that follows.
func (a *usersArea) createUser(c echo.Context) error {
	f := settings.InviteForm{
		Username:    strings.TrimSpace(c.FormValue("username")),
		DisplayName: strings.TrimSpace(c.FormValue("display_name")),
		Role:        c.FormValue("role"),
	}
	password := c.FormValue("password")
	if f.Errors = validateInvite(c, f, password); len(f.Errors) > 0 {
		return a.renderUsers(c, http.StatusUnprocessableEntity, settings.UsersView{Invite: f})
	}
	password, generated := passwordOrGenerated(password)
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := a.users.CreateUser(c.Request().Context(), db.NewUser{Username: f.Username, DisplayName: f.DisplayName,
		PasswordHash: hash, Role: f.Role})
	if errors.Is(err, db.ErrConflict) {
		f.Errors = map[string]string{"username": t(c, "users.error.username_taken", "Name", f.Username)}
		return a.renderUsers(c, http.StatusUnprocessableEntity, settings.UsersView{Invite: f})
	}
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "user.create", Object: "user:" + u.Username,
		Summary: summary("user_created", msg.Nested("Role", roleName(u.Role)), msg.Nested("Password", passwordOrigin(generated))).Encode()})
	if generated {
		revealOnce(c, u.Username, password)
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "users.created", "Name", u.Username), usersPath)
}

// validateInvite checks the form; the password is optional (empty means generate).
func validateInvite(c echo.Context, f settings.InviteForm, password string) map[string]string {
	errs := map[string]string{}
	if text, refused := userMessage(c, auth.CheckUsername(f.Username)); refused {
		errs["username"] = text
	}
	if utf8.RuneCountInString(f.DisplayName) > 64 {
		errs["display_name"] = t(c, "users.error.display_name_long")
	}
	if !roles.Valid(f.Role) {
		errs["role"] = t(c, "users.error.role")
	}
	if password != "" {
		for k, v := range validateNewPassword(c, password, password) {
			errs[k] = v
		}
	}
	return errs
}

// passwordOrGenerated returns typed, or when it is empty a new random
// password (96 bits, 16 URL-safe characters: easy to paste, hard to guess).
func passwordOrGenerated(typed string) (password string, generated bool) {
	if typed != "" {
		return typed, false
	}
	return secret.Token(12), true
}

func revealOnce(c echo.Context, username, password string) {
	st := state(c)
	st.sess.Values[keyRevealUser] = username
	st.sess.Values[keyRevealPassword] = password
	st.dirty = true
}

// takeReveal returns the waiting generated password, if any, and forgets it.
func takeReveal(c echo.Context) *settings.Reveal {
	st := state(c)
	name, _ := st.sess.Values[keyRevealUser].(string)
	password, _ := st.sess.Values[keyRevealPassword].(string)
	if name == "" || password == "" {
		return nil
	}
	delete(st.sess.Values, keyRevealUser)
	delete(st.sess.Values, keyRevealPassword)
	st.dirty = true
	return &settings.Reveal{Username: name, Password: password}
}

// targetUser is the account named by the :id path parameter.
func (a *usersArea) targetUser(c echo.Context) (db.User, error) {
	id, err := pathID(c)
	if err != nil {
		return db.User{}, err
	}
	return a.users.User(c.Request().Context(), id)
}

func (a *usersArea) changeUserRole(c echo.Context) error {
	u, err := a.targetUser(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if !roles.Valid(role) {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	if role == u.Role {
		return a.answerRowChange(c, u, "")
	}
	err = a.users.SetUserRole(c.Request().Context(), u.ID, role)
	if errors.Is(err, db.ErrLastAdmin) {
		return a.refuseLastAdmin(c, u, "user.role", "role_change")
	}
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "user.role", Object: "user:" + u.Username, Summary: summary("user_role", msg.Nested("From", roleName(u.Role)), msg.Nested("To", roleName(role))).Encode()})
	u.Role = role
	return a.answerRowChange(c, u, t(c, "users.role_changed", "Name", u.Username, "Role", t(c, "role."+role)))
}

func (a *usersArea) disableUser(c echo.Context) error { return a.setUserDisabled(c, true) }

func (a *usersArea) enableUser(c echo.Context) error { return a.setUserDisabled(c, false) }

// setUserDisabled disables (which ends the account's sessions at once) or
// re-enables an account.
func (a *usersArea) setUserDisabled(c echo.Context, disabled bool) error {
	u, err := a.targetUser(c)
	if err != nil {
		return err
	}
	action, said, done := "user.enable", summary("user_enabled"), "users.enabled"
	if disabled {
		action, said, done = "user.disable", summary("user_disabled"), "users.disabled"
	}
	err = a.users.SetUserDisabled(c.Request().Context(), u.ID, disabled)
	if errors.Is(err, db.ErrLastAdmin) {
		return a.refuseLastAdmin(c, u, action, "disable")
	}
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: action, Object: "user:" + u.Username, Summary: said.Encode()})
	u.Disabled = disabled
	return a.answerRowChange(c, u, t(c, done, "Name", u.Username))
}

// endUserSessions is an administrator's "sign out everywhere": every
// session of the account ends at once (the account itself stays usable).
func (a *usersArea) endUserSessions(c echo.Context) error {
	u, err := a.targetUser(c)
	if err != nil {
		return err
	}
	n, err := a.users.EndUserSessions(c.Request().Context(), u.ID, 0)
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "user.sessions_end", Object: "user:" + u.Username,
		Summary: summary("sessions_end_admin", msg.Int("Count", n)).Encode()})
	msg := t(c, "users.sessions_ended", "Name", u.Username, "Count", n)
	if u.ID == currentUser(c).ID {
		a.signIns.forget(state(c))
		return redirectWithFlash(c, ui.FlashInfo, msg, "/login")
	}
	return redirectWithFlash(c, ui.FlashSuccess, msg, usersPath)
}

// refuseLastAdmin says why nothing was done, on the row for htmx or as a
// flash otherwise, and records the refusal.
func (a *usersArea) refuseLastAdmin(c echo.Context, u db.User, action, attempt string) error {
	a.audit(c, db.AuditEntry{Action: action, Object: "user:" + u.Username, Outcome: db.OutcomeDenied,
		Summary: summary("last_admin_refused", msg.Nested("Action", actionName(attempt))).Encode()})
	msg := t(c, "users.error.last_admin", "Name", u.Username)
	if wantsFragment(c) {
		row := userEntry(u, currentUser(c).ID)
		row.Error = msg
		return a.renderFragment(c, http.StatusConflict, settings.UserRow(row))
	}
	return redirectWithFlash(c, ui.FlashError, msg, usersPath)
}

// answerRowChange ends a successful row change: the new row for htmx, or
// back to the list with a flash. An administrator who just took their own
// access away is sent where they can still go.
func (a *usersArea) answerRowChange(c echo.Context, u db.User, flash string) error {
	if to := landingAfterSelfChange(c, u); to != "" {
		addFlash(c, ui.FlashSuccess, flash)
		if wantsFragment(c) {
			c.Response().Header().Set("HX-Redirect", to)
			return c.NoContent(http.StatusNoContent)
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
	if wantsFragment(c) {
		return a.renderFragment(c, http.StatusOK, settings.UserRow(userEntry(u, currentUser(c).ID)))
	}
	if flash == "" {
		return c.Redirect(http.StatusSeeOther, usersPath)
	}
	return redirectWithFlash(c, ui.FlashSuccess, flash, usersPath)
}

// landingAfterSelfChange is where administrators go after disabling or
// demoting themselves ("" when they changed someone else).
func landingAfterSelfChange(c echo.Context, u db.User) string {
	switch {
	case u.ID != currentUser(c).ID:
		return ""
	case u.Disabled:
		return "/login"
	case u.Role != roles.Admin:
		return "/settings/account"
	}
	return ""
}

// resetUserPassword sets a typed or generated password. The account's
// sessions end at once; an administrator resetting their own keeps this one.
func (a *usersArea) resetUserPassword(c echo.Context) error {
	u, err := a.targetUser(c)
	if err != nil {
		return err
	}
	typed := c.FormValue("password")
	if typed != "" {
		if errs := validateNewPassword(c, typed, typed); len(errs) > 0 {
			row := settings.UserEntry{ID: u.ID, PasswordError: errs["password"]}
			return a.renderUsers(c, http.StatusUnprocessableEntity, settings.UsersView{Invite: blankInvite()}, row)
		}
	}
	password, generated := passwordOrGenerated(typed)
	if err := setPassword(c, a.users, u.ID, password); err != nil {
		return err
	}
	if me := currentUser(c); u.ID == me.ID {
		if err := a.signIns.begin(c, state(c), *me); err != nil {
			return err
		}
	}
	a.audit(c, db.AuditEntry{Action: "user.password_reset", Object: "user:" + u.Username,
		Summary: summary("password_reset", msg.Nested("Password", passwordOrigin(generated))).Encode()})
	if generated {
		revealOnce(c, u.Username, password)
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "users.password_reset", "Name", u.Username), usersPath)
}

// wantsFragment: an htmx request that swaps part of the page (not a boosted navigation).
func wantsFragment(c echo.Context) bool {
	return isHTMX(c) && c.Request().Header.Get("HX-Boosted") != "true"
}

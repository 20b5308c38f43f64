package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

func (s *Server) showAccount(c echo.Context) error {
	return s.renderAccount(c, http.StatusOK, nil)
}

func (s *Server) renderAccount(c echo.Context, status int, errs map[string]string) error {
	u := currentUser(c)
	v := settings.AccountView{Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, LastLoginAt: u.LastLoginAt, Errors: errs}
	return s.render(c, status, View{Title: t(c, "settings.tab.account"), Section: "settings", Body: settings.Account(v)})
}

// changeOwnPassword needs the current password; the new one ends every
// other session of this user (the epoch moves on) but keeps this one.
func (s *Server) changeOwnPassword(c echo.Context) error {
	u := currentUser(c)
	if !auth.VerifyPassword(u.PasswordHash, c.FormValue("current_password")) {
		s.audit(c, db.AuditEntry{Action: "user.password", Object: "user:" + u.Username,
			Summary: "own password change refused: wrong current password", Outcome: db.OutcomeFailed})
		return s.renderAccount(c, http.StatusUnprocessableEntity, map[string]string{"current_password": t(c, "account.error.current_wrong")})
	}
	password := c.FormValue("password")
	if errs := validateNewPassword(c, password, c.FormValue("password_confirm")); len(errs) > 0 {
		return s.renderAccount(c, http.StatusUnprocessableEntity, errs)
	}
	epoch, err := s.setPassword(c, u.ID, password)
	if err != nil {
		return err
	}
	keepSession(c, epoch)
	s.audit(c, db.AuditEntry{Action: "user.password", Object: "user:" + u.Username, Summary: "changed own password; other sessions ended"})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "account.password_changed"), "/settings/account")
}

// setPassword hashes and stores a new password, which ends every session
// of the account; it returns the account's new session epoch.
func (s *Server) setPassword(c echo.Context, id int64, password string) (int64, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return 0, err
	}
	return s.Store.SetUserPassword(c.Request().Context(), id, hash)
}

// keepSession moves this session on to the account's new epoch, so a
// password change that ends the account's other sessions spares this one.
func keepSession(c echo.Context, epoch int64) {
	st := state(c)
	st.sess.Values[keyEpoch] = epoch
	st.dirty = true
}

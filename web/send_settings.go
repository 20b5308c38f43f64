package web

import (
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
	sendsview "github.com/jingdesk/jingdesk/templates/sends"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Settings → Sends: the test recipients and the confirmation rules
// (administrators only; the rules and their checks are internal/sends').

const sendSettingsPath = "/settings/sends"

func sendSettingsForm(st sends.Settings) sendsview.SettingsForm {
	return sendsview.SettingsForm{TestMobiles: strings.Join(st.TestMobiles, "\n"), TestEmails: strings.Join(st.TestEmails, "\n"),
		ConfirmTypeAbove: strconv.FormatInt(st.ConfirmTypeAbove, 10), ApprovalAbove: strconv.FormatInt(st.ApprovalAbove, 10)}
}

func (a *sendsArea) renderSendSettings(c echo.Context, status int, f sendsview.SettingsForm) error {
	return a.render(c, status, View{Title: t(c, "settings.tab.sends"), Section: "settings", Body: sendsview.SettingsPage(f)})
}

func (a *sendsArea) showSendSettings(c echo.Context) error {
	st, err := a.sends.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return a.renderSendSettings(c, http.StatusOK, sendSettingsForm(st))
}

// saveSendSettings saves the form; each field the service refuses says
// why beside it, and the form keeps what was typed.
func (a *sendsArea) saveSendSettings(c echo.Context) error {
	in := sends.SettingsText{TestMobiles: clip(c.FormValue("test_mobiles"), 20000), TestEmails: clip(c.FormValue("test_emails"), 20000),
		ConfirmTypeAbove: clip(c.FormValue("confirm_type_above"), 40), ApprovalAbove: clip(c.FormValue("approval_above"), 40)}
	saved, err := a.sends.SaveSettingsText(c.Request().Context(), in)
	if err != nil {
		errs, ok := fieldMessages(c, err)
		if !ok {
			return err
		}
		f := sendsview.SettingsForm{TestMobiles: in.TestMobiles, TestEmails: in.TestEmails,
			ConfirmTypeAbove: strings.TrimSpace(in.ConfirmTypeAbove), ApprovalAbove: strings.TrimSpace(in.ApprovalAbove), Errors: errs, Error: errs[""]}
		return a.renderSendSettings(c, http.StatusUnprocessableEntity, f)
	}
	a.audit(c, db.AuditEntry{Action: "sends.settings", Object: "settings:sends",
		Summary: summary("sends_settings", msg.Int("Mobiles", int64(len(saved.TestMobiles))), msg.Int("Emails", int64(len(saved.TestEmails))),
			msg.Int("Confirm", saved.ConfirmTypeAbove), msg.Int("Approval", saved.ApprovalAbove)).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "sends.settings.saved"), sendSettingsPath)
}

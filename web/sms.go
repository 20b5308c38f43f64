package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/sends"
	sendsview "github.com/jingdesk/jingdesk/templates/sends"
	smsview "github.com/jingdesk/jingdesk/templates/sms"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The SMS pages (issue 7): the approved messages and the sends; the draft
// form; a send's page with its message, audience and the shared lifecycle
// (web/sends.go). Settings → Sends holds the test recipients and the
// confirmation rules.

// smsSigned is an SMS as people receive it: 【signature】content (the
// platform's contents usually carry the signature already).
func smsSigned(signature, content string) string {
	if signature == "" || strings.HasPrefix(content, "【"+signature+"】") {
		return content
	}
	return "【" + signature + "】" + content
}

// smsExample is the person the preview fills the variables for: a fixed
// example, so the preview needs no platform call and shows no real data.
var smsExample = map[string]string{
	"name": "张伟", "store": "星辰汽车上海浦东店", "phone": "400-820-8820", "mileage": "5000", "points": "1200",
	"city": "上海", "hall": "8.1 馆", "model": "星辰 X7", "date": "12月20日", "link": "https://x.cn/a1b2",
}

func smsMessage(m jing.SMSMessage) smsview.Message {
	text := smsSigned(m.Signature, m.Content)
	chars, parts := smsview.Parts(text)
	return smsview.Message{ID: m.SMSID, Name: m.Name, Signature: m.Signature, Text: text, Chars: chars, Parts: parts,
		Preview: smsview.Fill(text, smsExample)}
}

// smsMessages are the approved messages, or the platform's refusal in words.
func (s *Server) smsMessages(c echo.Context) ([]smsview.Message, string) {
	msgs, err := s.Sends.Messages(c.Request().Context())
	if err != nil {
		s.log(c).Warn("list SMS messages", "error", err)
		if je, ok := jing.AsError(err); ok {
			return nil, state(c).loc.Message(je.Message())
		}
		return nil, t(c, "sms.messages.unavailable")
	}
	out := make([]smsview.Message, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, smsMessage(m))
	}
	return out, ""
}

func (s *Server) showSMS(c echo.Context) error {
	if s.Sends == nil {
		return s.showArea("sms")(c)
	}
	v := smsview.List{Now: s.Now().Unix(), CanEdit: mayMove(currentUser(c))}
	v.Messages, v.MessagesErr = s.smsMessages(c)
	list, err := s.Store.ListSends(c.Request().Context(), db.SendFilter{Channel: sends.SMS, Limit: 100})
	if err != nil {
		return err
	}
	for _, sd := range list {
		r := smsview.SendRow{ID: sd.ID, Name: sd.Name, State: sd.State, Audience: sd.AudienceCount, CreatedBy: sd.CreatedByName,
			CreatedAt: sd.CreatedAt, Sent: sd.Counts.Sent, Delivered: sd.Counts.Delivered, Failed: sd.Counts.Failed,
			HasDelivery: sendsview.HasDelivery(sd.State)}
		if r.Audience == 0 {
			if n, err := s.Sends.AudienceSize(c.Request().Context(), sd); err == nil {
				r.Audience = n
			}
		}
		v.Sends = append(v.Sends, r)
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "nav.sms"), Section: "sms", Body: smsview.ListPage(v)})
}

// smsForm is an empty form with the choices filled in.
func (s *Server) smsForm(c echo.Context) (smsview.Form, error) {
	loc := state(c).loc
	f := smsview.Form{Audience: "crowds", When: "now", Zone: loc.Zone().String(), Example: t(c, "sms.preview.example", "Name", smsExample["name"])}
	f.Messages, f.MessagesErr = s.smsMessages(c)
	crowds, _, err := s.Store.ListCrowds(c.Request().Context(), db.CrowdFilter{Limit: 500})
	if err != nil {
		return f, err
	}
	for _, cr := range crowds {
		f.Crowds = append(f.Crowds, smsview.CrowdChoice{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount})
	}
	return f, nil
}

// readSMSForm reads the draft form as typed into f and the draft it asks
// for; problem is a refusal found before the service is asked.
func (s *Server) readSMSForm(c echo.Context, f *smsview.Form) (sends.Draft, string) {
	f.Name = clip(strings.TrimSpace(c.FormValue("name")), 80)
	f.SMSID = clip(c.FormValue("sms_id"), 64)
	f.Audience = c.FormValue("audience")
	f.MobilesText = clip(c.FormValue("mobiles"), 2<<20)
	f.When, f.SendAt = c.FormValue("when"), clip(c.FormValue("send_at"), 20)
	d := sends.Draft{Name: f.Name, SMSID: f.SMSID}
	form, _ := c.FormParams()
	chosen := map[int64]bool{}
	for _, raw := range form["group_id"] {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 && !chosen[id] {
			chosen[id] = true
			d.GroupIDs = append(d.GroupIDs, id)
		}
	}
	for i := range f.Crowds {
		f.Crowds[i].Checked = chosen[f.Crowds[i].ID]
	}
	valid, invalid := sends.ParseMobiles(f.MobilesText)
	f.ValidCount, f.Invalid = len(valid), invalid
	if f.Audience == "mobiles" {
		d.GroupIDs, d.Mobiles = nil, valid
	} else {
		f.Audience = "crowds"
	}
	problem := ""
	if f.When == "later" {
		at, err := time.ParseInLocation("2006-01-02T15:04", f.SendAt, state(c).loc.Zone())
		if err != nil {
			problem = t(c, "sms.error.bad_time")
		} else {
			d.SendTime = at.Unix()
		}
	} else {
		f.When = "now"
	}
	if f.Audience == "mobiles" && len(invalid) > 0 && problem == "" {
		problem = t(c, "sms.error.invalid_mobiles", "Count", state(c).loc.Number(int64(len(invalid))))
	}
	return d, problem
}

func (s *Server) showNewSMS(c echo.Context) error {
	if s.Sends == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	f, err := s.smsForm(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "sms.new"), Section: "sms", Body: smsview.NewPage(f)})
}

// formRefusal is the words of a draft's refusal, or ok false.
func formRefusal(c echo.Context, f *smsview.Form, err error) bool {
	msg, ref, ok := sendErrorText(c, err)
	f.Error, f.ErrorRef = msg, ref
	return ok
}

func (s *Server) createSMS(c echo.Context) error {
	if s.Sends == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	f, err := s.smsForm(c)
	if err != nil {
		return err
	}
	d, problem := s.readSMSForm(c, &f)
	refuse := func() error {
		return s.render(c, http.StatusUnprocessableEntity, View{Title: t(c, "sms.new"), Section: "sms", Body: smsview.NewPage(f)})
	}
	if problem != "" {
		f.Error = problem
		return refuse()
	}
	id, err := s.Sends.CreateDraft(c.Request().Context(), currentUser(c).ID, sends.SMS, d)
	if err != nil {
		if !formRefusal(c, &f, err) {
			return err
		}
		return refuse()
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "sms.created", "Name", d.Name), smsview.SendPath(id))
}

// smsSendFromParam is the SMS send of the route's :id.
func (s *Server) smsSendFromParam(c echo.Context) (db.Send, error) {
	sd, err := s.sendFromParam(c)
	if err == nil && sd.Channel != sends.SMS {
		return sd, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return sd, err
}

// smsPage shapes a send's page; form, when not nil, is the edit form as typed.
func (s *Server) smsPage(c echo.Context, sd db.Send, form *smsview.Form) (smsview.Page, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	text := smsSigned(sd.Signature, sd.Content)
	chars, parts := smsview.Parts(text)
	v := smsview.Page{Now: s.Now().Unix(), ID: sd.ID, Name: sd.Name, State: sd.State, Test: sd.Test, SendTime: sd.SendTime, SentAt: sd.SubmittedAt,
		Message: smsview.Message{ID: sd.SMSID, Signature: sd.Signature, Text: text, Chars: chars, Parts: parts},
		Mobiles: len(sd.Mobiles), Excluded: sd.Excluded, CanEdit: mayMove(u) && sd.State == db.SendDraft && !sd.Test}
	for _, g := range sd.GroupIDs {
		cc := smsview.CrowdChoice{ID: g, Name: "#" + strconv.FormatInt(g, 10)}
		if cr, err := s.Store.Crowd(ctx, g); err == nil {
			cc.Name, cc.Members = cr.Name, cr.UserCount
		}
		v.Crowds = append(v.Crowds, cc)
	}
	if sd.AudienceCount > 0 && sd.State != db.SendDraft {
		v.Size = sd.AudienceCount
	} else if n, err := s.Sends.AudienceSize(ctx, sd); err == nil {
		v.Size = n
	}
	v.Consent = smsview.Consent{ID: sd.ID, Listed: len(sd.Mobiles) > 0, Draft: sd.State == db.SendDraft, CanRun: mayMove(u),
		Excluded: sd.Excluded, Checked: len(sd.Excluded) > 0}
	if v.CanEdit {
		if form == nil {
			f, err := s.smsForm(c)
			if err != nil {
				return v, err
			}
			f.ID, f.Name, f.SMSID = sd.ID, sd.Name, sd.SMSID
			chosen := map[int64]bool{}
			for _, g := range sd.GroupIDs {
				chosen[g] = true
			}
			for i := range f.Crowds {
				f.Crowds[i].Checked = chosen[f.Crowds[i].ID]
			}
			if len(sd.Mobiles) > 0 {
				f.Audience, f.MobilesText, f.ValidCount = "mobiles", strings.Join(sd.Mobiles, "\n"), len(sd.Mobiles)
			}
			if sd.SendTime > 0 {
				f.When, f.SendAt = "later", time.Unix(sd.SendTime, 0).In(state(c).loc.Zone()).Format("2006-01-02T15:04")
			}
			form = &f
		}
		v.Form = form
	}
	if v.Message.ID != "" {
		if msgs, _ := s.smsMessages(c); msgs != nil {
			for _, m := range msgs {
				if m.ID == sd.SMSID {
					v.Message.Name = m.Name
				}
			}
		}
	}
	lc, err := s.sendPanels(c, sd)
	if err != nil {
		return v, err
	}
	v.Lifecycle = lc
	return v, nil
}

func (s *Server) renderSMSSend(c echo.Context, status int, v smsview.Page) error {
	return s.render(c, status, View{Title: v.Name, Section: "sms", Body: smsview.SendPage(v)})
}

func (s *Server) showSMSSend(c echo.Context) error {
	sd, err := s.smsSendFromParam(c)
	if err != nil {
		return err
	}
	if c.QueryParam("fragment") == "consent" {
		job, _ := strconv.ParseInt(c.QueryParam("job"), 10, 64)
		return s.renderFragment(c, http.StatusOK, smsview.ConsentBox(s.consentView(c, sd, job)))
	}
	v, err := s.smsPage(c, sd, nil)
	if err != nil {
		return err
	}
	return s.renderSMSSend(c, http.StatusOK, v)
}

// updateSMS changes a draft (only a draft).
func (s *Server) updateSMS(c echo.Context) error {
	sd, err := s.smsSendFromParam(c)
	if err != nil {
		return err
	}
	f, err := s.smsForm(c)
	if err != nil {
		return err
	}
	f.ID = sd.ID
	d, problem := s.readSMSForm(c, &f)
	if problem == "" {
		err = s.Sends.UpdateDraft(c.Request().Context(), sd.ID, d)
		if err == nil {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "sms.saved"), smsview.SendPath(sd.ID))
		}
		if errors.Is(err, sends.ErrNotDraft) {
			return backToSend(c, sd, ui.FlashError, t(c, "sends.error.not_draft"))
		}
		if !formRefusal(c, &f, err) {
			return err
		}
	} else {
		f.Error = problem
	}
	v, err := s.smsPage(c, sd, &f)
	if err != nil {
		return err
	}
	return s.renderSMSSend(c, http.StatusUnprocessableEntity, v)
}

// consentView is the consent box, with the check's job when one is known.
func (s *Server) consentView(c echo.Context, sd db.Send, jobID int64) smsview.Consent {
	v := smsview.Consent{ID: sd.ID, Listed: len(sd.Mobiles) > 0, Draft: sd.State == db.SendDraft, CanRun: mayMove(currentUser(c)),
		Excluded: sd.Excluded, Checked: len(sd.Excluded) > 0, JobID: jobID}
	if jobID > 0 {
		if j, err := s.Store.Job(c.Request().Context(), jobID); err == nil && j.Kind == sends.ConsentJobKind {
			v.Running, v.Done, v.Total = j.Active(), j.Done, j.Total
			if !j.Active() {
				v.Checked = j.State == db.JobDone
				if j.State != db.JobDone {
					v.Failed = j.Error
					if v.Failed == "" {
						v.Failed = j.State
					}
				}
			}
		}
	}
	return v
}

// checkSMSConsent queues the privacy-consent check of a draft's pasted list.
func (s *Server) checkSMSConsent(c echo.Context) error {
	sd, err := s.smsSendFromParam(c)
	if err != nil {
		return err
	}
	job, err := s.Sends.RequestConsentCheck(c.Request().Context(), sd.ID, currentUser(c).ID)
	if err != nil {
		return s.stepDone(c, sd, err, "")
	}
	if !isHTMX(c) {
		return backToSend(c, sd, ui.FlashInfo, t(c, "sms.consent.started"))
	}
	if cur, err := s.Store.Send(c.Request().Context(), sd.ID); err == nil {
		sd = cur
	}
	return s.renderFragment(c, http.StatusOK, smsview.ConsentBox(s.consentView(c, sd, job)))
}

// --- Settings → Sends ---

func sendSettingsForm(st sends.Settings) sendsview.SettingsForm {
	return sendsview.SettingsForm{TestMobiles: strings.Join(st.TestMobiles, "\n"), TestEmails: strings.Join(st.TestEmails, "\n"),
		ConfirmTypeAbove: strconv.FormatInt(st.ConfirmTypeAbove, 10), ApprovalAbove: strconv.FormatInt(st.ApprovalAbove, 10)}
}

func (s *Server) renderSendSettings(c echo.Context, status int, f sendsview.SettingsForm) error {
	return s.render(c, status, View{Title: t(c, "settings.tab.sends"), Section: "settings", Body: sendsview.SettingsPage(f)})
}

func (s *Server) showSendSettings(c echo.Context) error {
	if s.Sends == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	st, err := s.Sends.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return s.renderSendSettings(c, http.StatusOK, sendSettingsForm(st))
}

func splitLines(v string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == '，' || r == ';' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) saveSendSettings(c echo.Context) error {
	if s.Sends == nil {
		return echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	f := sendsview.SettingsForm{TestMobiles: clip(c.FormValue("test_mobiles"), 20000), TestEmails: clip(c.FormValue("test_emails"), 20000),
		ConfirmTypeAbove: strings.TrimSpace(c.FormValue("confirm_type_above")), ApprovalAbove: strings.TrimSpace(c.FormValue("approval_above")),
		Errors: map[string]string{}}
	st := sends.Settings{TestMobiles: splitLines(f.TestMobiles), TestEmails: splitLines(f.TestEmails)}
	for _, n := range []struct {
		field string
		raw   string
		to    *int64
	}{{"confirm_type_above", f.ConfirmTypeAbove, &st.ConfirmTypeAbove}, {"approval_above", f.ApprovalAbove, &st.ApprovalAbove}} {
		v, err := strconv.ParseInt(strings.ReplaceAll(n.raw, ",", ""), 10, 64)
		if err != nil || v < 0 {
			f.Errors[n.field] = t(c, "sends.settings.bad_number")
			continue
		}
		*n.to = v
	}
	// Name the bad test recipient against its own field.
	for _, m := range st.TestMobiles {
		if _, bad := sends.ParseMobiles(m); len(bad) > 0 {
			f.Errors["test_mobiles"] = t(c, "sends.settings.bad_recipient", "Value", m)
			break
		}
	}
	if len(f.Errors) == 0 {
		saved, err := s.Sends.SaveSettings(c.Request().Context(), st)
		if errors.Is(err, sends.ErrBadSettings) {
			bad := err.Error()
			if i := strings.LastIndex(bad, ": "); i >= 0 {
				bad = strings.Trim(bad[i+2:], `"`)
			}
			f.Errors["test_emails"] = t(c, "sends.settings.bad_recipient", "Value", bad)
		} else if err != nil {
			return err
		} else {
			s.audit(c, db.AuditEntry{Action: "sends.settings", Object: "settings:sends",
				Summary: "test mobiles " + strconv.Itoa(len(saved.TestMobiles)) + ", test emails " + strconv.Itoa(len(saved.TestEmails)) +
					", type the count above " + strconv.FormatInt(saved.ConfirmTypeAbove, 10) + ", second approver above " + strconv.FormatInt(saved.ApprovalAbove, 10)})
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "sends.settings.saved"), "/settings/sends")
		}
	}
	return s.renderSendSettings(c, http.StatusUnprocessableEntity, f)
}

package web

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
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
// form; a send's page with its message, audience, privacy-consent check
// and the shared lifecycle (send_panels.go).

// smsTimeLayout is a datetime-local input's value.
const smsTimeLayout = "2006-01-02T15:04"

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
func (a *sendsArea) smsMessages(c echo.Context) ([]smsview.Message, string) {
	msgs, err := a.sends.Messages(c.Request().Context())
	if err != nil {
		a.log(c).Warn("list SMS messages", "error", err)
		if text, ok := userMessage(c, err); ok {
			return nil, text
		}
		return nil, t(c, "sms.messages.unavailable")
	}
	out := make([]smsview.Message, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, smsMessage(m))
	}
	return out, ""
}

func (a *sendsArea) showSMS(c echo.Context) error {
	ctx := c.Request().Context()
	v := smsview.List{Now: a.now().Unix(), CanEdit: maySend(c)}
	v.Messages, v.MessagesErr = a.smsMessages(c)
	list, err := a.ledger.ListSends(ctx, db.SendFilter{Channel: sends.SMS, Limit: 100})
	if err != nil {
		return err
	}
	for _, sd := range list {
		v.Sends = append(v.Sends, smsview.SendRow{ID: sd.ID, Name: sd.Name, State: sd.State, Audience: a.sends.Audience(ctx, sd),
			CreatedBy: sd.CreatedByName, CreatedAt: sd.CreatedAt, Sent: sd.Counts.Sent, Delivered: sd.Counts.Delivered,
			Failed: sd.Counts.Failed, HasDelivery: sendsview.HasDelivery(sd.State)})
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "nav.sms"), Section: "sms", Body: smsview.ListPage(v)})
}

// smsForm is the draft form with its choices (messages, crowds) and, when
// sd is not nil, filled from that draft.
func (a *sendsArea) smsForm(c echo.Context, sd *db.Send) (smsview.Form, error) {
	loc := state(c).loc
	f := smsview.Form{Audience: "crowds", When: "now", Zone: loc.Zone().String(), Example: t(c, "sms.preview.example", "Name", smsExample["name"])}
	f.Messages, f.MessagesErr = a.smsMessages(c)
	crowds, _, err := a.ledger.ListCrowds(c.Request().Context(), db.CrowdFilter{Limit: 500})
	if err != nil {
		return f, err
	}
	for _, cr := range crowds {
		f.Crowds = append(f.Crowds, smsview.CrowdChoice{ID: cr.GroupID, Name: cr.Name, Members: cr.UserCount})
	}
	if sd == nil {
		return f, nil
	}
	f.ID, f.Name, f.SMSID = sd.ID, sd.Name, sd.SMSID
	checkCrowds(f.Crowds, sd.GroupIDs)
	if len(sd.Mobiles) > 0 {
		f.Audience, f.MobilesText, f.ValidCount = "mobiles", strings.Join(sd.Mobiles, "\n"), len(sd.Mobiles)
	}
	if sd.SendTime > 0 {
		f.When, f.SendAt = "later", time.Unix(sd.SendTime, 0).In(loc.Zone()).Format(smsTimeLayout)
	}
	return f, nil
}

// checkCrowds ticks the choices among ids.
func checkCrowds(choices []smsview.CrowdChoice, ids []int64) {
	chosen := map[int64]bool{}
	for _, g := range ids {
		chosen[g] = true
	}
	for i := range choices {
		choices[i].Checked = chosen[choices[i].ID]
	}
}

// readSMSForm reads the draft form as typed into f, and the draft it asks
// for; err is the one thing parsing refuses (a time that is not one), the
// rest is the service's to check.
func readSMSForm(c echo.Context, f *smsview.Form) (sends.Draft, error) {
	f.Name = clip(strings.TrimSpace(c.FormValue("name")), 80)
	f.SMSID = clip(c.FormValue("sms_id"), 64)
	f.Audience = c.FormValue("audience")
	f.MobilesText = clip(c.FormValue("mobiles"), 2<<20)
	f.When, f.SendAt = c.FormValue("when"), clip(c.FormValue("send_at"), 20)
	d := sends.Draft{Name: f.Name, SMSID: f.SMSID}
	form, _ := c.FormParams()
	for _, raw := range form["group_id"] {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 && !slices.Contains(d.GroupIDs, id) {
			d.GroupIDs = append(d.GroupIDs, id)
		}
	}
	checkCrowds(f.Crowds, d.GroupIDs)
	valid, invalid := sends.ParseMobiles(f.MobilesText)
	f.ValidCount, f.Invalid = len(valid), invalid
	if f.Audience == "mobiles" {
		d.GroupIDs, d.Mobiles, d.NotMobiles = nil, valid, invalid
	} else {
		f.Audience = "crowds"
	}
	if f.When != "later" {
		f.When = "now"
		return d, nil
	}
	at, err := time.ParseInLocation(smsTimeLayout, f.SendAt, state(c).loc.Zone())
	if err != nil {
		return d, sends.ErrNoTime
	}
	d.SendTime = at.Unix()
	return d, nil
}

// refuseSMSForm puts a refusal in the form; ok is false for an error
// that is not one (the caller returns it).
func refuseSMSForm(c echo.Context, f *smsview.Form, err error) (status int, ok bool) {
	r, ok := refusalInForm(c, err)
	f.Error, f.Field = r.Text, r.Field
	return r.Status, ok
}

func (a *sendsArea) showNewSMS(c echo.Context) error {
	f, err := a.smsForm(c, nil)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "sms.new"), Section: "sms", Body: smsview.NewPage(f)})
}

func (a *sendsArea) createSMS(c echo.Context) error {
	f, err := a.smsForm(c, nil)
	if err != nil {
		return err
	}
	d, err := readSMSForm(c, &f)
	if err == nil {
		var id int64
		if id, err = a.sends.CreateDraft(c.Request().Context(), currentUser(c).ID, sends.SMS, d); err == nil {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "sms.created", "Name", d.Name), smsview.SendPath(id))
		}
	}
	status, ok := refuseSMSForm(c, &f, err)
	if !ok {
		return err
	}
	return a.render(c, status, View{Title: t(c, "sms.new"), Section: "sms", Body: smsview.NewPage(f)})
}

// smsPage shapes a send's page; form, when not nil, is the edit form as typed.
func (a *sendsArea) smsPage(c echo.Context, sd db.Send, form *smsview.Form) (smsview.Page, error) {
	ctx := c.Request().Context()
	text := smsSigned(sd.Signature, sd.Content)
	chars, parts := smsview.Parts(text)
	v := smsview.Page{Now: a.now().Unix(), ID: sd.ID, Name: sd.Name, State: sd.State, Test: sd.Test, SendTime: sd.SendTime, SentAt: sd.SubmittedAt,
		Message: smsview.Message{ID: sd.SMSID, Signature: sd.Signature, Text: text, Chars: chars, Parts: parts},
		Mobiles: len(sd.Mobiles), Excluded: sd.Excluded, Size: a.sends.Audience(ctx, sd),
		CanEdit: maySend(c) && sends.Changeable(sd) == sends.AsDraft, Consent: consentBox(c, sd)}
	for _, cr := range a.sendCrowds(ctx, sd.GroupIDs) {
		v.Crowds = append(v.Crowds, smsview.CrowdChoice{ID: cr.ID, Name: cr.Name, Members: cr.Members})
	}
	if v.CanEdit && form == nil {
		f, err := a.smsForm(c, &sd)
		if err != nil {
			return v, err
		}
		form = &f
	}
	var msgs []smsview.Message
	if v.CanEdit {
		v.Form, msgs = form, form.Messages
	} else if sd.SMSID != "" {
		msgs, _ = a.smsMessages(c)
	}
	for _, m := range msgs {
		if m.ID == sd.SMSID {
			v.Message.Name = m.Name
		}
	}
	lc, err := a.sendPanels(c, sd)
	if err != nil {
		return v, err
	}
	v.Lifecycle = lc
	return v, nil
}

func (a *sendsArea) renderSMSSend(c echo.Context, status int, v smsview.Page) error {
	return a.render(c, status, View{Title: v.Name, Section: "sms", Body: smsview.SendPage(v)})
}

func (a *sendsArea) showSMSSend(c echo.Context) error {
	sd, err := a.targetSend(c, sends.SMS)
	if err != nil {
		return err
	}
	if c.QueryParam("fragment") == "consent" {
		job, _ := strconv.ParseInt(c.QueryParam("job"), 10, 64)
		return a.renderFragment(c, http.StatusOK, smsview.ConsentBox(a.consentView(c, sd, job)))
	}
	v, err := a.smsPage(c, sd, nil)
	if err != nil {
		return err
	}
	return a.renderSMSSend(c, http.StatusOK, v)
}

// updateSMS changes a draft (only a draft: one that moved on goes back to
// its page, saying so).
func (a *sendsArea) updateSMS(c echo.Context) error {
	sd, err := a.targetSend(c, sends.SMS)
	if err != nil {
		return err
	}
	f, err := a.smsForm(c, nil)
	if err != nil {
		return err
	}
	f.ID = sd.ID
	d, err := readSMSForm(c, &f)
	if err == nil {
		if _, err = a.sends.Change(c.Request().Context(), sd.ID, currentUser(c), d); err == nil {
			return redirectWithFlash(c, ui.FlashSuccess, t(c, "sms.saved"), smsview.SendPath(sd.ID))
		}
	}
	if errors.Is(err, sends.ErrNotDraft) || errors.Is(err, sends.ErrStarted) {
		return stepDone(c, sd, err, "")
	}
	status, ok := refuseSMSForm(c, &f, err)
	if !ok {
		return err
	}
	v, err := a.smsPage(c, sd, &f)
	if err != nil {
		return err
	}
	return a.renderSMSSend(c, status, v)
}

// consentBox is the consent part of a draft's page as stored.
func consentBox(c echo.Context, sd db.Send) smsview.Consent {
	return smsview.Consent{ID: sd.ID, Listed: len(sd.Mobiles) > 0, Draft: sd.State == db.SendDraft, CanRun: maySend(c),
		Excluded: sd.Excluded, Checked: len(sd.Excluded) > 0}
}

// consentView is the consent box, with the check's job when one is known.
func (a *sendsArea) consentView(c echo.Context, sd db.Send, jobID int64) smsview.Consent {
	v := consentBox(c, sd)
	v.JobID = jobID
	if jobID <= 0 {
		return v
	}
	j, err := a.ledger.Job(c.Request().Context(), jobID)
	if err != nil || j.Kind != sends.ConsentJobKind {
		return v
	}
	v.Running, v.Done, v.Total = j.Active(), j.Done, j.Total
	if !j.Active() {
		v.Checked = j.State == db.JobDone
		if j.State != db.JobDone {
			v.Failed = cmp.Or(state(c).loc.Stored(j.Error), t(c, "jobs.state."+j.State))
		}
	}
	return v
}

// checkSMSConsent queues the privacy-consent check of a draft's pasted list.
func (a *sendsArea) checkSMSConsent(c echo.Context) error {
	sd, err := a.targetSend(c, sends.SMS)
	if err != nil {
		return err
	}
	job, err := a.sends.RequestConsentCheck(c.Request().Context(), sd.ID, currentUser(c).ID)
	if err != nil {
		return stepDone(c, sd, err, "")
	}
	if !isHTMX(c) {
		return backToSend(c, sd, ui.FlashInfo, t(c, "sms.consent.started"))
	}
	if cur, err := a.ledger.Send(c.Request().Context(), sd.ID); err == nil {
		sd = cur
	}
	return a.renderFragment(c, http.StatusOK, smsview.ConsentBox(a.consentView(c, sd, job)))
}

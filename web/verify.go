package web

import (
	"context"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// platformVerifyTimeout bounds a verification: about thirty reads, paced,
// a few at a time, each sent once.
const platformVerifyTimeout = 3 * time.Minute

// showVerifyPlan is the confirmation step of "Verify answers": what it
// will call and spend against today's quotas. htmx swaps it into the
// card; without script the page comes back with it.
func (a *platformArea) showVerifyPlan(c echo.Context) error {
	plan := verifyPlanView(a.platform.Sandbox(), a.platform.PlanVerification(c.Request().Context()))
	if wantsFragment(c) {
		return a.renderFragment(c, http.StatusOK, settings.VerifyPlanView(plan))
	}
	return a.renderPlatform(c, http.StatusOK, nil, func(v *settings.PlatformView) { v.Verify.Plan = &plan })
}

// verifyAnswers runs the verification the plan announced. Without the
// confirmation it shows the plan instead.
func (a *platformArea) verifyAnswers(c echo.Context) error {
	if c.FormValue("confirm") != "1" {
		return a.showVerifyPlan(c)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), platformVerifyTimeout)
	defer cancel()
	rep, err := a.platform.VerifyAnswers(ctx)
	if err != nil {
		return err
	}
	entry := db.AuditEntry{Action: "platform.verify", Object: "platform",
		Summary: summary("verify", msg.Nested("Counts", rep.SummaryMessage()), msg.Nested("Target", a.platformTarget())).Encode()}
	if len(rep.Problems()) > 0 {
		entry.Outcome = db.OutcomeFailed
	}
	a.audit(c, entry)
	// The page comes back whole (the form is boosted, not swapped): the
	// report, and the banner of every page, reflect the run at once.
	if n := len(rep.Problems()); n > 0 {
		return redirectWithFlash(c, ui.FlashError, t(c, "platform.verify.done_problems", "Count", n), platformPath+"#verify")
	}
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "platform.verify.done_ok"), platformPath+"#verify")
}

// verifyCard is the card's state when the page is drawn: the last report.
func (a *platformArea) verifyCard(c echo.Context) settings.VerifyCard {
	rep, found := a.platform.LastVerification(c.Request().Context())
	if !found {
		return settings.VerifyCard{}
	}
	view := a.verifyReportView(c, rep)
	return settings.VerifyCard{Last: &view}
}

func verifyPlanView(sandbox bool, p platform.VerifyPlan) settings.VerifyPlan {
	v := settings.VerifyPlan{Sandbox: sandbox, BaseURL: p.BaseURL, Day: p.Day, Calls: p.Calls(), Reads: len(p.Reads),
		Writes: p.Writes}
	for _, r := range p.Reads {
		v.Rows = append(v.Rows, settings.PlanRow{Endpoint: r.Endpoint, Calls: r.Calls, CallsToday: r.CallsToday,
			DailyQuota: r.DailyQuota, Disabled: r.Disabled, After: strings.Join(r.After, ", "), NothingToRead: r.NothingToRead})
	}
	return v
}

func (a *platformArea) verifyReportView(c echo.Context, rep platform.VerifyReport) settings.VerifyReport {
	loc := state(c).loc
	v := settings.VerifyReport{At: rep.At.Unix(), BaseURL: rep.BaseURL, Current: rep.Connection == a.platform.Connection(),
		Writes: rep.Writes, Problems: len(rep.Problems())}
	row := func(r platform.VerifyResult) settings.VerifyRow {
		out := settings.VerifyRow{Endpoint: r.Endpoint, Status: string(r.Status), Field: r.Field,
			DurationMS: r.DurationMS, NoMeta: r.NoMeta}
		if r.Status == platform.VerifyUnderstood { // a failure's sentence carries its request id
			out.RequestID = r.RequestID
		}
		if !r.Detail.IsZero() {
			out.Detail = loc.Message(r.Detail)
		}
		for _, f := range platform.FeaturesOf(r.Endpoint) {
			out.Features = append(out.Features, string(f))
		}
		return out
	}
	if rep.Token.Status.Problem() {
		t := row(rep.Token)
		v.Token = &t
	} else if !rep.Token.Detail.IsZero() {
		v.TokenNote = loc.Message(rep.Token.Detail)
	}
	counts := rep.Counts()
	for _, st := range platform.VerifyStatuses {
		if n := counts[st]; n > 0 {
			v.Counts = append(v.Counts, settings.StatusCount{Status: string(st), Count: n})
		}
	}
	for _, r := range rep.Reads {
		v.Rows = append(v.Rows, row(r))
	}
	return v
}

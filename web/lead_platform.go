package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// What the lead page asks the platform itself, in fragments the page
// loads after it is drawn (so it never waits on the platform): where the
// lead opens on the platform's site, the person's privacy consent, and
// the lead's scores (through the score cache).

// showLeadLink asks the platform where the lead opens on its own site
// (leads.detail_link), on demand.
func (a *leadsArea) showLeadLink(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	ans := leadsview.Link{UUID: l.UUID}
	client, err := currentClient(a.platform)
	link := ""
	if err == nil {
		link, err = client.LeadDetailLink(c.Request().Context(), l.UUID)
	}
	switch {
	case err != nil:
		ans.Error = platformMessage(c, err)
	case !safeLink(link):
		ans.Error = t(c, "leads.page.link_unsafe")
	default:
		ans.URL = link
	}
	return a.renderFragment(c, http.StatusOK, leadsview.LinkAnswer(ans))
}

// showSandboxLead is where the sandbox's leads.detail_link points (the
// sandbox has no site of its own, so the console serves its path): the
// lead's page, saying so.
func (a *leadsArea) showSandboxLead(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	return redirectWithFlash(c, ui.FlashInfo, t(c, "leads.page.sandbox_link"), leadsview.LeadPath(l.UUID))
}

// safeLink: an http(s) address, or a path of this host (the sandbox's).
func safeLink(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") ||
		(strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"))
}

// errNoPlatform: the platform manager has no client to call with.
var errNoPlatform = errors.New("no platform connection")

// currentClient is the live connection's client.
func currentClient(p liveClient) (*jing.Client, error) {
	client, _ := p.Current()
	if client == nil {
		return nil, errNoPlatform
	}
	return client, nil
}

// platformMessage is a platform error in the user's language.
func platformMessage(c echo.Context, err error) string {
	if je, ok := jing.AsError(err); ok {
		return state(c).loc.Message(je.Message())
	}
	return t(c, "leads.page.platform_failed")
}

// showLeadPrivacy is the privacy consent of the lead's person, by mobile,
// else by email (privacy.status). An unknown person has no consent on record.
func (a *leadsArea) showLeadPrivacy(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	p := leadsview.Privacy{}
	value := ""
	switch {
	case l.Mobile != "":
		p.Identity, value = jing.IdentityMobile, l.Mobile
	case l.Email != "":
		p.Identity, value = jing.IdentityEmail, l.Email
	}
	if p.Identity != "" {
		var page jing.Page[jing.PrivacyPolicy]
		client, err := currentClient(a.platform)
		if err == nil {
			page, err = client.PrivacyStatus(c.Request().Context(), p.Identity, value, jing.PageRequest{Page: 1, PerPage: 100})
		}
		if je, ok := jing.AsError(err); ok && je.Kind == jing.KindBusiness && je.Code == jing.CodeBusinessFailed {
			p.NoRecord = true
		} else if err != nil {
			p.Error = platformMessage(c, err)
		}
		anyAuth := false
		for _, pol := range page.Items {
			row := leadsview.PrivacyRow{Title: pol.Title}
			for _, ver := range pol.PolicyInfos {
				row.Versions = append(row.Versions, leadsview.PrivacyVersion{Version: ver.Version, Authorized: ver.Authorized(), At: ver.UpdatedTimestamp})
				row.Authorized = row.Authorized || ver.Authorized()
			}
			anyAuth = anyAuth || row.Authorized
			p.Policies = append(p.Policies, row)
		}
		if !anyAuth {
			p.NoRecord = true
		}
	}
	return a.renderFragment(c, http.StatusOK, leadsview.PrivacyCard(p))
}

// showLeadScores is the lead's identity, activity and intention scores
// through the score cache (internal/scores), which asks the platform and
// keeps the history, so the card draws each score's trend.
func (a *leadsArea) showLeadScores(c echo.Context) error {
	l, err := a.targetLead(c)
	if err != nil {
		return err
	}
	card, err := a.scores.FetchOne(c.Request().Context(), db.SubjectLead, l.UUID)
	if err != nil {
		return err
	}
	return a.renderFragment(c, http.StatusOK, leadsview.ScoresCard(leadScoresCard(c, card)))
}

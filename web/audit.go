package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/templates/settings"
)

const (
	auditPath     = "/settings/audit"
	auditPageSize = 50
)

// auditArea is Settings → Audit log (administrators).
type auditArea struct {
	*kit
	entries interface {
		ListAudit(ctx context.Context, f db.AuditFilter) ([]db.AuditEntry, error)
	}
}

// showAudit lists the audit log newest first, filtered, one page at a time.
// Paging is by id (?before=), so new entries arriving between two clicks
// neither repeat nor skip rows the way an offset would.
func (a *auditArea) showAudit(c echo.Context) error {
	f := auditFilterFrom(c)
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	// One more than a page tells whether an older page exists.
	entries, err := a.entries.ListAudit(c.Request().Context(), db.AuditFilter{
		Action: groupPrefix(f.Group), Username: f.Username, Outcome: f.Outcome,
		BeforeID: before, Limit: auditPageSize + 1,
	})
	if err != nil {
		return err
	}
	v := settings.AuditView{Filter: f}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.OlderURL = auditURL(f, entries[len(entries)-1].ID)
	}
	if before > 0 {
		v.NewestURL = auditURL(f, 0)
	}
	for _, e := range entries {
		v.Entries = append(v.Entries, auditEntry(state(c).loc, e))
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "settings.tab.audit"), Section: "settings", Body: settings.Audit(v)})
}

// auditFilterFrom reads the filter form, dropping values it does not offer.
func auditFilterFrom(c echo.Context) settings.AuditFilter {
	f := settings.AuditFilter{
		Group:    c.QueryParam("action"),
		Username: strings.TrimSpace(c.QueryParam("user")),
		Outcome:  c.QueryParam("outcome"),
	}
	if !slices.Contains(settings.AuditGroups, f.Group) {
		f.Group = ""
	}
	if !slices.Contains(settings.AuditOutcomes, f.Outcome) {
		f.Outcome = ""
	}
	return f
}

func groupPrefix(group string) string {
	if group == "" {
		return ""
	}
	return group + "."
}

// auditURL is the address of a page of the log under the same filter.
func auditURL(f settings.AuditFilter, before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Group, "user": f.Username, "outcome": f.Outcome} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return auditPath
	}
	return auditPath + "?" + q.Encode()
}

// auditEntry shapes a row for the page; a summary stored as a message (a
// platform write, a send) reads in the viewer's language.
func auditEntry(loc *i18n.Localizer, e db.AuditEntry) settings.AuditEntry {
	return settings.AuditEntry{At: e.At, Username: e.Username, RemoteAddr: e.RemoteAddr, Action: e.Action,
		Object: e.Object, Summary: loc.Stored(e.Summary), Outcome: e.Outcome, RequestID: e.RequestID}
}

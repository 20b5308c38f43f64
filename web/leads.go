package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/scores"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The leads area: the board (board.go), the list and its bulk changes
// (leads_list.go, leads_bulk.go), a lead's page, its notes and forms
// (lead_page.go, lead_platform.go, lead_notes.go, lead_form.go), and the
// change feed open pages follow (live.go). It reads the local copy from
// the store and writes through the leads service (internal/leads), which
// owns the copy, the lead filter and the rules of every write.
type leadsArea struct {
	*kit
	copy   leadCopy
	leads  leadService
	ref    referenceSource
	scores leadScores
	// platform is the live connection, for what the lead page asks the
	// platform itself (its link, the person's privacy consent).
	platform liveClient
	board    *boardCache
	views    savedViews
	exports  leadExports
}

// leadCopy is what the leads pages read of the local copy (db.Store).
type leadCopy interface {
	Lead(ctx context.Context, uuid string) (db.Lead, error)
	ListLeads(ctx context.Context, f db.LeadFilter) ([]db.Lead, int, error)
	LeadsPage(ctx context.Context, f db.LeadFilter) ([]db.Lead, error)
	CountLeadsByStatus(ctx context.Context, f db.LeadFilter) (map[string]int, error)
	Board(ctx context.Context, f db.LeadFilter, statuses []string, page int) (map[string]db.BoardColumn, error)
	LeadsVersion() int64
	LeadSync(ctx context.Context) (db.LeadSyncState, error)
	LeadPools(ctx context.Context) ([]string, error)
	AccountNames(ctx context.Context, ids []string) (map[string]string, error)
}

// leadService is what the leads pages ask of the leads service: the
// writes (each with its rules and refusals), the sync, and the change
// feed open pages follow.
type leadService interface {
	ClosingStatus(businessType, status string) bool
	RequestSync(ctx context.Context, userID int64, full bool) (int64, error)
	Move(ctx context.Context, actor string, uuid, toStatus, note string, seenUpdatedAt int64) (db.Lead, error)
	SetOwner(ctx context.Context, actor, uuid, owner string, seenUpdatedAt int64) (db.Lead, error)
	SetCollaborators(ctx context.Context, actor, uuid string, want []string, seenUpdatedAt int64) (db.Lead, error)
	AddNote(ctx context.Context, actor, uuid, note string, seenUpdatedAt int64) (db.Lead, error)
	SaveForm(ctx context.Context, actor, uuid string, f leads.Form, seenUpdatedAt int64) ([]string, error)
	CreateFromForm(ctx context.Context, actor, businessType string, f leads.Form) (db.Lead, error)
	PlanBulk(ctx context.Context, uuids []string, c leads.BulkChange) (leads.BulkPlan, error)
	PlanBulkMatching(ctx context.Context, f db.LeadFilter, c leads.BulkChange) (leads.BulkPlan, error)
	RequestBulk(ctx context.Context, userID int64, actor string, uuids []string, c leads.BulkChange) (int64, leads.BulkPlan, error)
	LastChange(ctx context.Context) (int64, error)
	ChangesAfter(ctx context.Context, seq int64, board *db.LeadFilter) (leads.Changes, error)
	Timeline(ctx context.Context, l db.Lead, cursor string) ([]db.TimelineEntry, string, error)
}

// referenceSource is the reference data's current resolver (never nil:
// before a refresh it is empty, and names show as ids).
type referenceSource interface {
	Resolver() *refdata.Resolver
}

// leadScores is the score cache's card of one lead (internal/scores).
type leadScores interface {
	FetchOne(ctx context.Context, subject, id string) (scores.Card, error)
}

// liveClient is the live platform connection (a *platform.Manager).
type liveClient interface {
	Current() (*jing.Client, string)
}

const (
	// boardIDMax bounds any id read from a path or a form.
	boardIDMax = 100
	leadObject = "lead"
)

// showLeads: the leads area opens on the board (keeping any filter).
func (a *leadsArea) showLeads(c echo.Context) error {
	to := leadsview.BoardPath
	if q := c.Request().URL.RawQuery; q != "" {
		to += "?" + q
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// mayMove: marketers and administrators move cards; viewers only look.
func mayMove(u *db.User) bool {
	return u != nil && roles.Works(u.Role)
}

// pipelines is the reference data's resolver when it holds a pipeline of
// leads to draw the board, the list and the lead forms from; ok is false
// before the reference data has one (the pages say so).
func (a *leadsArea) pipelines() (r *refdata.Resolver, ok bool) {
	r = a.ref.Resolver()
	return r, len(r.BusinessTypes(leadObject)) > 0
}

// targetLead is the lead of the route's :uuid (db.ErrNotFound: a 404).
func (a *leadsArea) targetLead(c echo.Context) (db.Lead, error) {
	uuid, err := pathUUID(c)
	if err != nil {
		return db.Lead{}, err
	}
	return a.copy.Lead(c.Request().Context(), uuid)
}

// refusedHere is a refusal of a service (msg.Error: nothing was sent to
// the platform) in the reader's words, with its kind's status, for a
// page that shows it in place; ok is false for any other error.
func refusedHere(c echo.Context, err error) (text string, status int, ok bool) {
	r, ok := msg.AsError(err)
	if !ok {
		return "", 0, false
	}
	text, _ = userMessage(c, err)
	return text, refusalStatus(r.Kind), true
}

// liveSeq is the latest seq of the change log: pages start following
// changes from it (0 when it cannot be read: the first poll then reports
// everything in the log, which open pages treat as changes they check).
func (a *leadsArea) liveSeq(ctx context.Context) int64 {
	last, err := a.leads.LastChange(ctx)
	if err != nil {
		return 0
	}
	return last
}

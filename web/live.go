package web

import (
	"bytes"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Live updates (issue 9): the platform's webhooks keep the local copy
// current (web/webhooks.go receives them, internal/webhooks applies them);
// open boards and lead pages follow the copy by polling GET /leads/changes,
// and administrators see the receiving URL and the stored events.

// liveLead is one changed lead as open pages need it.
type liveLead struct {
	UUID         string `json:"uuid"`
	Status       string `json:"status"`
	StatusName   string `json:"status_name,omitempty"`
	BusinessType string `json:"business_type"`
	Voided       bool   `json:"voided"`
	Seq          int64  `json:"seq"`
	// Rev is a digest of what the lead's page shows: a write that changes
	// nothing (a sync, the echo of the console's own write) keeps it.
	Rev string `json:"rev,omitempty"`
	// For the board only (?board=1): whether the lead belongs on this
	// board (its business type and filter), and then its card.
	OnBoard bool   `json:"on_board,omitempty"`
	Card    string `json:"card,omitempty"`
}

// liveAnswer is the answer of /leads/changes.
type liveAnswer struct {
	Last  int64      `json:"last"`
	More  bool       `json:"more,omitempty"` // more changes follow: ask again after Last
	Leads []liveLead `json:"leads"`
	// For the board only, when something changed: every column's count
	// under the board's filter, and their total.
	Counts    map[string]int `json:"counts,omitempty"`
	Total     *int           `json:"total,omitempty"`
	TotalText string         `json:"total_text,omitempty"`
}

// showLeadChanges answers which leads changed after ?after=<seq>, with
// their current status (read from the copy). Without after it only says
// the latest seq. With board=1 and the board's filter it adds, for the
// leads on that board, their cards (as the user may see them) and the
// columns' counts.
func (a *leadsArea) showLeadChanges(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	raw := c.QueryParam("after")
	if raw == "" {
		return a.showLiveStart(c)
	}
	after, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || after < 0 {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	r, drawn := a.pipelines()
	var bc *boardCtx
	var f leadsview.Filter
	var board *db.LeadFilter
	if c.QueryParam("board") == "1" && drawn {
		bc, f = a.newBoardCtx(c, r), boardFilter(c, r)
		sel := f.Select(bc.loc.Zone())
		board = &sel
	}
	ctx := c.Request().Context()
	changes, err := a.leads.ChangesAfter(ctx, after, board)
	if err != nil {
		return err
	}
	ans := liveAnswer{Last: changes.Last, More: changes.More, Leads: make([]liveLead, 0, len(changes.Leads))}
	lang := state(c).loc.Lang
	rctx := ui.WithPage(ctx, a.pageData(c, "", ""))
	for _, ch := range changes.Leads {
		item := liveLead{UUID: ch.UUID, Seq: ch.Seq, Voided: ch.Gone}
		if !ch.Gone {
			l := ch.Lead
			item.Status, item.BusinessType, item.Voided, item.Rev = l.Status, l.BusinessType, l.Voided, leadRev(l)
			item.StatusName, _ = r.Status(lang, l.BusinessType, l.Status)
		}
		if ch.OnBoard {
			var buf bytes.Buffer
			if err := leadsview.CardView(a.card(bc, ch.Lead)).Render(rctx, &buf); err != nil {
				return err
			}
			item.OnBoard, item.Card = true, buf.String()
		}
		ans.Leads = append(ans.Leads, item)
	}
	if changes.Counts != nil {
		total := 0
		ans.Counts = map[string]int{}
		for _, st := range a.pipeline(bc, f.BusinessType) {
			ans.Counts[st.Status] = changes.Counts[st.Status]
			total += changes.Counts[st.Status]
		}
		ans.Total, ans.TotalText = &total, t(c, "leads.board.total", "Count", bc.loc.Number(int64(total)))
	}
	return c.JSON(http.StatusOK, ans)
}

// showLiveStart says where to start following: the latest seq, and with
// lead=<uuid> that lead's revision.
func (a *leadsArea) showLiveStart(c echo.Context) error {
	ctx := c.Request().Context()
	ans := liveAnswer{Last: a.liveSeq(ctx), Leads: []liveLead{}}
	if uuid := c.QueryParam("lead"); uuid != "" && len(uuid) <= boardIDMax {
		if l, err := a.copy.Lead(ctx, uuid); err == nil {
			ans.Leads = append(ans.Leads, liveLead{UUID: l.UUID, Status: l.Status, BusinessType: l.BusinessType,
				Voided: l.Voided, Seq: ans.Last, Rev: leadRev(l)})
		}
	}
	return c.JSON(http.StatusOK, ans)
}

// leadRev digests what a lead's page shows of it.
func leadRev(l db.Lead) string {
	h := fnv.New64a()
	for _, part := range []string{l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, strings.Join(l.Collaborators, ","),
		l.Name, l.Mobile, l.Email, l.Company, l.Title, l.Source, string(l.Fields), strconv.FormatBool(l.Voided)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

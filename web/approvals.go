package web

import (
	"cmp"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	sendsview "github.com/jingdesk/jingdesk/templates/sends"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// showApprovals lists the sends waiting for the reader's approval (what
// the nav badge counts), then the reader's own waiting for someone else.
func (a *sendsArea) showApprovals(c echo.Context) error {
	ap, err := a.sends.Approvals(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	v := sendsview.Approvals{Now: a.now().Unix(), ForYou: approvalRows(ap.ForYou), Yours: approvalRows(ap.Yours)}
	return a.render(c, http.StatusOK, View{Title: t(c, "approvals.title"), Section: "approvals", Body: sendsview.ApprovalsPage(v)})
}

func approvalRows(sds []db.Send) []sendsview.ApprovalRow {
	out := make([]sendsview.ApprovalRow, 0, len(sds))
	for _, sd := range sds {
		out = append(out, sendsview.ApprovalRow{ID: sd.ID, Channel: sd.Channel, Name: sd.Name, Count: sd.AudienceCount,
			By: sd.CreatedByName, At: cmp.Or(sd.ConfirmedAt, sd.CreatedAt)})
	}
	return out
}

// copySend edits a send that sent nothing as a new draft (the service
// audits both) and opens the draft.
func (a *sendsArea) copySend(c echo.Context) error {
	sd, err := a.targetSend(c, "")
	if err != nil {
		return err
	}
	id, err := a.sends.CopyAsDraft(c.Request().Context(), sd.ID, currentUser(c))
	if err != nil {
		return stepDone(c, sd, err, "")
	}
	return backToSend(c, db.Send{ID: id, Channel: sd.Channel}, ui.FlashSuccess, t(c, "send_check.copy.done"))
}

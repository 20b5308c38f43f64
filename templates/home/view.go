// Package home is the Home page: what needs the signed-in user today.
package home

import (
	"fmt"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/home"
)

// Page is Home as the web layer shaped it.
type Page struct {
	home.Home
	Now    int64
	CanAct bool // marketers and admins: the blocks' action links
	Admin  bool
	// BusinessTypes names the week's business types (id → name).
	BusinessTypes map[string]string
}

// SendURL is a send's page.
func SendURL(sd db.Send) string {
	if sd.Channel == "sms" {
		return fmt.Sprintf("/sms/sends/%d", sd.ID)
	}
	return fmt.Sprintf("/email/sends/%d", sd.ID)
}

// JobURL is a job's page.
func JobURL(id int64) string { return fmt.Sprintf("/jobs/%d", id) }

// ImportURL is an import's page.
func ImportURL(id int64) string { return fmt.Sprintf("/imports/%d", id) }

// Percent is a share as a whole percentage.
func Percent(e home.EndpointUse) int64 { return int64(e.Share()*100 + 0.5) }

// WeekTotals are the week's sums over business types.
func (p Page) WeekTotals() db.PipelineWeek {
	var t db.PipelineWeek
	for _, r := range p.Week.Rows {
		t.New += r.New
		t.Moves += r.Moves
		t.Converted += r.Converted
	}
	return t
}

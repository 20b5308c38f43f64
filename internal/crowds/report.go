package crowds

import (
	"context"
	"io"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sheet"
)

// Report categories: the rows a download holds.
var reportStates = map[string][]string{
	"rejected":          {db.RowInvalid, db.RowDuplicate},
	db.RowInvalid:       {db.RowInvalid},
	db.RowDuplicate:     {db.RowDuplicate},
	db.RowImported:      {db.RowImported},
	db.RowAlreadyMember: {db.RowAlreadyMember},
	db.RowNotFound:      {db.RowNotFound},
	db.RowFailed:        {db.RowFailed},
}

// ReportCategory reports whether name is a downloadable category.
func ReportCategory(name string) bool { _, ok := reportStates[name]; return ok }

// ReportLabels are what a report's words are: the column titles and each
// state's and reason code's wording, in the reader's language.
type ReportLabels struct {
	Columns []string // line, value in the file, normalised value, name, omni_user_uuid, result, reason
	State   func(state string) string
	Reason  func(state, reason string) string
}

// WriteReport writes the rows of one category as CSV through the sheet
// writer (UTF-8 with a BOM, formulas kept as text). Rows are streamed
// page by page, never all in memory.
func (s *Service) WriteReport(ctx context.Context, w io.Writer, importID int64, category string, l ReportLabels) error {
	cw, err := sheet.New(w, sheet.CSV)
	if err != nil {
		return err
	}
	if err := cw.WriteText(l.Columns...); err != nil {
		return err
	}
	after := int64(0)
	for {
		rows, err := s.cfg.Store.ImportRowsPage(ctx, importID, reportStates[category], after, 2000)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			rec := []any{r.Line, r.Raw, r.Value, r.Name, r.UUID, l.State(r.State), l.Reason(r.State, r.Reason)}
			if err := cw.Write(rec...); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].Line
		if err := cw.Flush(); err != nil {
			return err
		}
	}
	return cw.Close()
}

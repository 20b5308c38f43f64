package crowds

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/db"
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

// WriteReport writes the rows of one category as CSV in UTF-8 with a BOM,
// so Excel on Chinese Windows opens it with the Chinese intact. Rows are
// streamed page by page, never all in memory.
func (s *Service) WriteReport(ctx context.Context, w io.Writer, importID int64, category string, l ReportLabels) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel writes and expects
	if err := cw.Write(l.Columns); err != nil {
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
			rec := []string{strconv.FormatInt(r.Line, 10), safeCell(r.Raw), r.Value, safeCell(r.Name), r.UUID,
				l.State(r.State), l.Reason(r.State, r.Reason)}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].Line
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell keeps a cell from being read as a formula by a spreadsheet
// (CSV injection): text from an uploaded file is data, never code.
func safeCell(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@') {
		return "'" + v
	}
	return v
}

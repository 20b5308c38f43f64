package scores

import (
	"context"
	"fmt"
	"math"

	"github.com/jingdesk/jingdesk/internal/db"
)

// ExportColumns are an export's columns, in order; each row holds them
// for one scored id. The header row names them in the reader's language
// (the catalogs' "scores.export.<column>").
var ExportColumns = []string{"id", "name", "status", "score", "band", "grade", "level"}

// exportBatch is how many rows are named (one identity query) at a time.
const exportBatch = 500

// RowWriter takes an export's rows: internal/sheet's Writer, the one
// spreadsheet writer, which keeps a name like "=HYPERLINK(…)" as text.
type RowWriter interface {
	Write(cells ...any) error
}

// Export writes the selection's rows to w, highest score first, for the
// reader (persons' identities masked for viewers, statuses by name): the
// columns of ExportColumns, the score to two decimals. It streams the
// cache, naming a batch at a time, so its memory does not grow with the
// selection.
func (s *Service) Export(ctx context.Context, v View, sel Selection, r Reader, w RowWriter) error {
	ds, err := sel.query()
	if err != nil {
		return err
	}
	var batch []db.ScoredItem
	flush := func() error {
		items, err := s.named(ctx, v, r, batch)
		if err != nil {
			return err
		}
		batch = batch[:0]
		for _, it := range items {
			if err := w.Write(exportRow(it, r)...); err != nil {
				return err
			}
		}
		return nil
	}
	err = s.cfg.Store.EachScored(ctx, v.query(), ds, func(it db.ScoredItem) error {
		batch = append(batch, it)
		if len(batch) >= exportBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// exportRow is an item's cells, in the order of ExportColumns, its level
// named for the reader (a Chinese sheet says 高活跃, not hot).
func exportRow(it Item, r Reader) []any {
	return []any{it.ID, it.Name, it.Status, math.Round(it.Score*100) / 100, it.Band, it.Grade, r.level(it.Level)}
}

// ExportName is the file name of the view's export now, with extension ext.
func (s *Service) ExportName(v View, ext string) string {
	return fmt.Sprintf("scores-%s-%s.%s", v.Kind, s.cfg.Now().Format("20060102-1504"), ext)
}

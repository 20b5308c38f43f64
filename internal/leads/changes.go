package leads

import (
	"context"
	"errors"

	"github.com/jingdesk/jingdesk/internal/db"
)

// The change feed open pages follow (issue 9): every write to a lead of
// the copy (a sync, a webhook, the console's own writes) is logged with a
// seq; an open board or lead page asks what changed after the seq it was
// drawn at. For a board, whether each changed lead is still on it is the
// board's filter as the store applies it (db.Store.LeadsMatching), the
// one predicate the board's columns were drawn with.

// ChangesMax is the most leads one answer of ChangesAfter reports.
const ChangesMax = 200

// Change is one lead written after the seq asked about.
type Change struct {
	Seq  int64
	UUID string
	// Lead is the lead as the copy has it now; Gone when the copy no
	// longer holds it (as good as voided for an open page).
	Lead db.Lead
	Gone bool
	// OnBoard: the board's filter selects the lead (asked with a filter).
	OnBoard bool
}

// Changes is what changed after a seq.
type Changes struct {
	// Last is the seq to ask after next; More says more changes follow it.
	Last  int64
	More  bool
	Leads []Change
	// Counts are the board's column counts (status → leads) under its
	// filter, when asked with one and something changed.
	Counts map[string]int
}

// LastChange is the latest seq of the change log: a page drawn now
// follows changes from it.
func (s *Service) LastChange(ctx context.Context) (int64, error) {
	_, last, err := s.store.LeadChangesAfter(ctx, 1<<62, 1)
	return last, err
}

// ChangesAfter reports the leads written after seq (each once, oldest
// first, at most ChangesMax), as the copy has them now. With board, the
// filter of an open board, it also says which are on that board and
// counts its columns.
func (s *Service) ChangesAfter(ctx context.Context, seq int64, board *db.LeadFilter) (Changes, error) {
	logged, last, err := s.store.LeadChangesAfter(ctx, seq, ChangesMax)
	if err != nil {
		return Changes{}, err
	}
	out := Changes{Last: last, Leads: make([]Change, 0, len(logged))}
	if len(logged) == ChangesMax {
		out.Last, out.More = logged[len(logged)-1].Seq, true
	}
	if len(logged) == 0 {
		return out, nil
	}
	var onBoard map[string]bool
	if board != nil {
		uuids := make([]string, len(logged))
		for i, ch := range logged {
			uuids[i] = ch.UUID
		}
		if onBoard, err = s.store.LeadsMatching(ctx, *board, uuids); err != nil {
			return Changes{}, err
		}
		if out.Counts, err = s.store.CountLeadsByStatus(ctx, *board); err != nil {
			return Changes{}, err
		}
	}
	for _, ch := range logged {
		c := Change{Seq: ch.Seq, UUID: ch.UUID}
		c.Lead, err = s.store.Lead(ctx, ch.UUID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			c.Gone = true
		case err != nil:
			return Changes{}, err
		default:
			c.OnBoard = onBoard[ch.UUID]
		}
		out.Leads = append(out.Leads, c)
	}
	return out, nil
}

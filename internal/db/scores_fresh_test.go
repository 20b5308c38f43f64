package db

import (
	"context"
	"fmt"
	"reflect"
	"testing"
)

// The freshness the scores page shows for all leads, a business type or
// a status comes from kept counts (score_fetch_counts, migration 0019).
// They stay exactly what counting the cards gives (COUNT(*) over
// score_cards, the query the page ran before) through every way the
// cards and their leads change: fetches of each kind in batches and one
// at a time, syncs that change a lead's status, business type or voided
// mark, webhook events, console moves, a voided lead listed again, and a
// copy reset (every card deleted).
func TestKeptFreshnessStaysExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, leads, ids := leadStore(t, 240, func(l *Lead, i int) { l.Status, l.UpdatedAt = fmt.Sprintf("st%d", i%3), 10 })
	fetch := func(kind string, at int64, ids []string) {
		t.Helper()
		var got []FetchedScore
		for i, id := range ids {
			if i%5 != 4 { // the platform has no score for some: still fetched
				got = append(got, FetchedScore{ID: id, Model: "p1", Score: float64(i % 100), Band: "B"})
			}
		}
		if _, err := s.SaveScores(ctx, SubjectLead, kind, ids, got, at); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		keptMatchesCards(t, s, when)
		for _, kind := range []string{ScoreIdentity, ScoreActive, ScoreIntention} {
			for _, pop := range []ScorePopulation{{}, {Leads: LeadFilter{BusinessType: "bt0"}}, {Leads: LeadFilter{BusinessType: "bt1", Status: "st2"}}} {
				for _, staleBefore := range []int64{0, 100, 150, 200, 201, 5000} {
					kept, err := s.ScoreFreshness(ctx, pop, kind, staleBefore)
					if err != nil {
						t.Fatal(err)
					}
					counted := countedFreshnessReference(t, s, pop, kind, staleBefore)
					if kept != counted {
						t.Fatalf("%s: %s freshness of %+v before %d: kept %+v, counting the cards %+v", when, kind, pop.Leads, staleBefore, kept, counted)
					}
				}
			}
		}
	}
	check("before any fetch")
	// A refresh in batches of 100, each batch its own moment; a second
	// kind later; a card without a lead (its lead not synced yet).
	fetch(ScoreIdentity, 100, ids[:100])
	fetch(ScoreIdentity, 150, ids[100:200])
	fetch(ScoreActive, 200, append(ids[:90:90], "not-synced-yet"))
	fetch(ScoreIntention, 201, ids[50:230])
	check("after the first fetches")

	// A later refresh of some (their old moments lose them); a lead's card
	// fetched on its own; the same moment again (nothing moves).
	fetch(ScoreIdentity, 300, ids[:40])
	fetch(ScoreActive, 300, ids[5:6])
	fetch(ScoreActive, 300, ids[5:6])
	check("after a second fetch")

	// A sync changes statuses, a business type, voids one and lists a
	// voided one again.
	leads[1].Status, leads[2].BusinessType, leads[3].Voided = "st9", "bt1", true
	syncLeads(t, s, 20, leads[:4]...)
	check("after a sync changed leads")
	leads[3].Voided = false
	syncLeads(t, s, 30, leads[3])
	if err := s.MarkLeadVoided(ctx, ids[7], 40); err != nil {
		t.Fatal(err)
	}
	check("after a lead was voided and another listed again")

	// Webhook events: a status change, a void, a new lead (its card
	// comes later).
	applyLeadEvents(t, s,
		ObjectEvent{Object: "lead", UUID: ids[8], At: 50, Tie: "a", Set: map[string]any{"lead_status": "st1"}},
		ObjectEvent{Object: "lead", UUID: ids[9], At: 50, Tie: "b", Void: true},
		ObjectEvent{Object: "lead", UUID: "new-by-webhook", At: 50, Tie: "c", Create: true, BusinessType: "bt0", Set: map[string]any{"lead_status": "st2"}})
	fetch(ScoreIdentity, 400, []string{"new-by-webhook", ids[8]})
	check("after webhook events")

	// A console move.
	moved := leads[20]
	moved.Status, moved.UpdatedAt = "st0", 60
	if err := s.SaveMovedLead(ctx, moved, LeadStatusChange{Origin: OriginConsole, Actor: "u1", At: 60}); err != nil {
		t.Fatal(err)
	}
	check("after a console move")

	// A crowd's persons are cards too (subject user), apart from the leads'.
	if _, err := s.SaveScores(ctx, SubjectUser, ScoreActive, []string{"p1", "p2"}, nil, 500); err != nil {
		t.Fatal(err)
	}
	check("after a crowd's fetch")

	// The copy given to another connection: every card deleted.
	if _, err := s.ResetLeads(ctx, "another"); err != nil {
		t.Fatal(err)
	}
	check("after the copy was reset")
	var rows int
	if err := s.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM score_fetch_counts) + (SELECT count(*) FROM score_fetch_totals)`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("after the reset the kept counts hold %d rows (%v): rows whose count fell to 0 stay", rows, err)
	}
}

// keptMatchesCards compares score_fetch_counts with the cards grouped
// (COUNT(*)) row for row.
func keptMatchesCards(t *testing.T, s *Store, when string) {
	t.Helper()
	read := func(q string) []string {
		var out []string
		rows, err := s.read.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var kind, subject, bt, status string
			var voided, at, n int64
			if err := rows.Scan(&kind, &subject, &voided, &bt, &status, &at, &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(kind, subject, voided, bt, status, at, n))
		}
		return out
	}
	kept := read(`SELECT kind, subject, voided, business_type, status, at, n FROM score_fetch_counts ORDER BY 1, 2, 3, 4, 5, 6`)
	var counted []string
	for _, kind := range []string{ScoreActive, ScoreIdentity, ScoreIntention} { // the kinds' order
		counted = append(counted, read(`SELECT '`+kind+`', subject, voided, business_type, status, `+kind+`_at, COUNT(*) FROM score_cards
			WHERE `+kind+`_at > 0 GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6`)...)
	}
	if !reflect.DeepEqual(kept, counted) {
		t.Fatalf("%s: score_fetch_counts\n%v\ncounting the cards\n%v", when, kept, counted)
	}
	totals := read(`SELECT kind, subject, voided, '', '', at, n FROM score_fetch_totals ORDER BY 1, 2, 3, 6`)
	var summed []string
	for _, kind := range []string{ScoreActive, ScoreIdentity, ScoreIntention} {
		summed = append(summed, read(`SELECT '`+kind+`', subject, voided, '', '', `+kind+`_at, COUNT(*) FROM score_cards
			WHERE `+kind+`_at > 0 GROUP BY 2, 3, 6 ORDER BY 2, 3, 6`)...)
	}
	if !reflect.DeepEqual(totals, summed) {
		t.Fatalf("%s: score_fetch_totals\n%v\ncounting the cards\n%v", when, totals, summed)
	}
}

// countedFreshnessReference is the freshness as the page counted it
// before the counts were kept: every card of the population walked.
func countedFreshnessReference(t *testing.T, s *Store, pop ScorePopulation, kind string, staleBefore int64) ScoreFreshness {
	t.Helper()
	where, args, ok := (ScoreQuery{Pop: pop, Kind: kind}).counted()
	if !ok {
		t.Fatalf("%+v is not a counted population", pop)
	}
	col := kind + "_at"
	var f ScoreFreshness
	var population, fetched, staleFetched int64
	err := s.read.QueryRow(`SELECT COALESCE(MIN(`+col+`), 0), COALESCE(MAX(`+col+`), 0), COUNT(*), COUNT(*) FILTER (WHERE `+col+` < ?)
		FROM score_cards WHERE `+where+` AND `+col+` > 0`, append([]any{staleBefore}, args...)...).Scan(&f.Oldest, &f.Newest, &fetched, &staleFetched)
	if err != nil {
		t.Fatal(err)
	}
	var q = `SELECT COUNT(*) FROM leads WHERE voided = 0`
	var largs []any
	if pop.Leads.BusinessType != "" {
		q, largs = q+` AND business_type = ?`, append(largs, pop.Leads.BusinessType)
	}
	if pop.Leads.Status != "" {
		q, largs = q+` AND status = ?`, append(largs, pop.Leads.Status)
	}
	if err := s.read.QueryRow(q, largs...).Scan(&population); err != nil {
		t.Fatal(err)
	}
	f.Never = max(population-fetched, 0)
	f.Stale = staleFetched + f.Never
	return f
}

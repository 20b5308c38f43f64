package jing_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// personIDs are the omni_user_uuids of the first n seeded persons.
func personIDs(t *testing.T, r *rig, n int) []string {
	t.Helper()
	var ids []string
	for _, p := range r.sb.SamplePersons(n) {
		ids = append(ids, p.OmniUserUUID)
	}
	if len(ids) != n {
		t.Fatalf("%d seeded persons, want %d", len(ids), n)
	}
	return ids
}

// leadIDs are the jing_uuids of the first page of seeded leads.
func leadIDs(t *testing.T, r *rig) []string {
	t.Helper()
	var p jing.Page[struct {
		JingUUID string `json:"jing_uuid"`
	}]
	if err := r.client.Call(context.Background(), "leads.list", jing.PageRequest{Page: 1, PerPage: 100}, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) == 0 {
		t.Fatal("the tenant has no seeded leads")
	}
	var ids []string
	for _, l := range p.Items {
		ids = append(ids, l.JingUUID)
	}
	return ids
}

func unknownIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("UnknownPerson%09d", i)
	}
	return out
}

// byID groups scores by id.
func byID(scores []jing.Score) map[string][]jing.Score {
	out := map[string][]jing.Score{}
	for _, s := range scores {
		out[s.ID] = append(out[s.ID], s)
	}
	return out
}

func TestUserScoresAreAskedInBatchesOfAHundred(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	known := personIDs(t, r, 150)
	ids := append(slices.Clone(known), unknownIDs(100)...)
	scores, err := r.client.UserScores(context.Background(), jing.ScoreIdentity, ids)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.calls.count("/v1/scoring/user/identity/batch"); n != 3 {
		t.Fatalf("250 ids took %d calls, want 3", n)
	}
	got := byID(scores)
	if len(scores) != 150 || len(got) != 150 {
		t.Fatalf("%d scores for %d ids; want one for each of the 150 known persons", len(scores), len(got))
	}
	for _, id := range known {
		s := got[id]
		if len(s) != 1 || !slices.Contains([]string{"A", "B", "C", "D"}, s[0].Grade) || s[0].Score < 0 || s[0].Score > 100 || s[0].Model == "" {
			t.Fatalf("identity of %s: %+v", id, s)
		}
	}
}

func TestBatchesFollowTheCatalogsMaxBatch(t *testing.T) {
	t.Parallel()
	forty := 40
	r := newRig(t, sendsFast(map[string]jing.Override{"scores.user_active_clear": {MaxBatch: &forty}}))
	ids := personIDs(t, r, 100)
	cleared, err := r.client.ClearUserActivity(context.Background(), append(ids, ids[:10]...)) // repeats are sent once
	if err != nil || cleared != 100 {
		t.Fatalf("cleared %d: %v", cleared, err)
	}
	if n := r.calls.count("/v1/scoring/user/active/clear"); n != 3 {
		t.Fatalf("100 ids in batches of 40 took %d calls, want 3", n)
	}
}

func TestMoreThanAHundredIDsInOneCallIsInvalid(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	err := r.client.Call(ctx, "scores.user_active", map[string]any{"omni_user_uuids": unknownIDs(101)}, nil)
	wantRefusal(t, err, jing.CodeInvalidParameter, "omni_user_uuids")
	err = r.client.Call(ctx, "scores.lead_intention", map[string]any{"jing_uuids": []string{}}, nil)
	wantRefusal(t, err, jing.CodeMissingParameter, "jing_uuids")
	if _, err := r.client.UserScores(ctx, "mood", []string{"x"}); err == nil {
		t.Fatal("an unknown score kind was accepted")
	}
}

func TestScoresAreTheSameInTwoSandboxesOfOneSeed(t *testing.T) {
	t.Parallel()
	a, b := newRig(t, sendsFast(nil)), newRig(t, sendsFast(nil))
	ctx := context.Background()
	ids := personIDs(t, a, 60)
	if !reflect.DeepEqual(ids, personIDs(t, b, 60)) {
		t.Fatal("two sandboxes of one seed have different persons")
	}
	for _, kind := range []jing.ScoreKind{jing.ScoreIdentity, jing.ScoreActivity, jing.ScoreIntention} {
		sa, errA := a.client.UserScores(ctx, kind, ids)
		sb, errB := b.client.UserScores(ctx, kind, ids)
		if errA != nil || errB != nil || len(sa) < len(ids) || !reflect.DeepEqual(sa, sb) {
			t.Fatalf("%s scores differ between two sandboxes of one seed (%v, %v)", kind, errA, errB)
		}
	}
}

func TestIntentionScoresRateSeveralProductsPerPerson(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ids := personIDs(t, r, 20)
	scores, err := r.client.UserScores(context.Background(), jing.ScoreIntention, ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, items := range byID(scores) {
		products := map[string]bool{}
		for _, s := range items {
			products[s.Model] = true
			if !slices.Contains([]string{"high", "medium", "low"}, s.Level) {
				t.Fatalf("intent of %s: %+v", id, s)
			}
		}
		if len(items) < 3 || len(products) != len(items) {
			t.Fatalf("%s has intent scores %+v: want one for each of several products", id, items)
		}
	}
}

func TestClearingActivityZeroesItAndNothingElse(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	ctx := context.Background()
	ids := personIDs(t, r, 40)
	active, err := r.client.UserScores(ctx, jing.ScoreActivity, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(active, func(s jing.Score) bool { return s.Score > 0 }) {
		t.Fatal("no person has activity points to clear")
	}
	identity, _ := r.client.UserScores(ctx, jing.ScoreIdentity, ids)
	cleared, err := r.client.ClearUserActivity(ctx, append(slices.Clone(ids), unknownIDs(5)...))
	if err != nil || cleared != 40 {
		t.Fatalf("cleared %d of 40 known persons: %v", cleared, err)
	}
	after, _ := r.client.UserScores(ctx, jing.ScoreActivity, ids)
	if len(after) != 40 || slices.ContainsFunc(after, func(s jing.Score) bool { return s.Score != 0 || s.Level != "inactive" }) {
		t.Fatalf("activity after clearing: %+v", after)
	}
	if again, _ := r.client.UserScores(ctx, jing.ScoreIdentity, ids); !reflect.DeepEqual(again, identity) {
		t.Fatal("clearing activity changed identity scores")
	}
}

func TestLeadScoresLeaveUnknownLeadsOut(t *testing.T) {
	t.Parallel()
	r := newRig(t, sendsFast(nil))
	leads := leadIDs(t, r)
	scores, err := r.client.LeadScores(context.Background(), jing.ScoreActivity, append(slices.Clone(leads), unknownIDs(30)...))
	if err != nil {
		t.Fatal(err)
	}
	got := byID(scores)
	if len(got) != len(leads) || len(scores) != len(leads) {
		t.Fatalf("%d scores for %d leads (%d ids scored)", len(scores), len(leads), len(got))
	}
	for _, s := range scores {
		if !slices.Contains([]string{"hot", "warm", "cold", "inactive"}, s.Level) || s.Model == "" {
			t.Fatalf("lead activity %+v", s)
		}
	}
}

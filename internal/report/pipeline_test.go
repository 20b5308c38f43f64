package report

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
)

type fakeStore db.PipelineData

func (f fakeStore) PipelineHistory(context.Context, string, int64, int64) (db.PipelineData, error) {
	return db.PipelineData(f), nil
}

// handBuilt: five leads of a three-status pipeline; the range is
// [1000, 2000).
//
//	A (m1): created 1000 in s1, → s2 at 1100, → s3 at 1400 (console)
//	B (m1): created 1050 in s1, → s2 at 1350 (a sync saw it)
//	C (m1): created 500 in s1 (before the range), never moved
//	D (m2): created 1200, first seen in s2, never moved
//	E (m2): created 1500 in s1, → s3 at 1600 (skipping s2)
func handBuilt() fakeStore {
	ch := func(at int64, from, to, origin string) db.LeadStatusChange {
		return db.LeadStatusChange{At: at, From: from, To: to, Origin: origin}
	}
	return fakeStore{
		Leads: []db.PipelineLead{
			{UUID: "A", Owner: "m1", Source: "web", Status: "s3", CreatedAt: 1000},
			{UUID: "B", Owner: "m1", Source: "fair", Status: "s2", CreatedAt: 1050},
			{UUID: "C", Owner: "m1", Source: "web", Status: "s1", CreatedAt: 500},
			{UUID: "D", Owner: "m2", Source: "fair", Status: "s2", CreatedAt: 1200},
			{UUID: "E", Owner: "m2", Source: "web", Status: "s3", CreatedAt: 1500},
		},
		Changes: map[string][]db.LeadStatusChange{
			"A": {ch(1100, "s1", "s2", db.OriginConsole), ch(1400, "s2", "s3", db.OriginConsole)},
			"B": {ch(1350, "s1", "s2", db.OriginSync)},
			"E": {ch(1600, "s1", "s3", db.OriginConsole)},
		},
	}
}

func TestPipelineOnAHandBuiltHistory(t *testing.T) {
	svc := New(handBuilt())
	r, err := svc.Pipeline(context.Background(), Query{BusinessType: "bt", From: 1000, To: 2000, By: ByOwner,
		Pipeline: []string{"s1", "s2", "s3"}})
	if err != nil {
		t.Fatal(err)
	}
	type fig struct {
		entered, converted, left int
		median, p90              int64
		approxIn, approxDur      int
		leads                    []string
	}
	want := []fig{
		{3, 2, 3, 100, 300, 0, 1, []string{"A", "B", "E"}}, // durations 100 (A), 300 (B, ended by a sync), 100 (E)
		{3, 1, 1, 300, 300, 1, 0, []string{"A", "B", "D"}}, // A left after 300; B (a sync's) and D still there
		{2, 0, 0, 0, 0, 0, 0, []string{"A", "E"}},          // the last status converts to nothing
	}
	all := r.Groups[0]
	if all.Key != "" || len(all.Stages) != 3 {
		t.Fatalf("first group %+v", all)
	}
	for i, st := range all.Stages {
		got := fig{st.Entered, st.Converted, st.Left, st.MedianSec, st.P90Sec, st.ApproxEntries, st.ApproxDurations, st.Leads}
		w := want[i]
		if got.entered != w.entered || got.converted != w.converted || got.left != w.left || got.median != w.median ||
			got.p90 != w.p90 || got.approxIn != w.approxIn || got.approxDur != w.approxDur || !slices.Equal(got.leads, w.leads) {
			t.Errorf("%s: got %+v, want %+v", st.Status, got, w)
		}
	}
	if c := all.Stages[0].Conversion(); c < 0.66 || c > 0.67 {
		t.Errorf("s1 conversion %.3f, want 2/3", c)
	}
	if !all.Stages[0].Approximate() || all.Stages[2].Approximate() {
		t.Error("approximate marks")
	}
	// By owner: m1 (A, B in range), m2 (D, E).
	if len(r.Groups) != 3 || r.Groups[1].Key != "m1" || r.Groups[2].Key != "m2" {
		t.Fatalf("groups %v", len(r.Groups))
	}
	if e := r.Groups[1].Stages[0].Entered; e != 2 {
		t.Errorf("m1 entered s1 %d times, want 2", e)
	}
	if e, c := r.Groups[2].Stages[1].Entered, r.Groups[2].Stages[1].Converted; e != 1 || c != 0 {
		t.Errorf("m2 s2: %d entered, %d converted; want 1, 0", e, c)
	}

	for _, q := range []Query{{From: 1, To: 2}, {BusinessType: "bt", From: 2, To: 1}, {BusinessType: "bt", From: 1, To: 2, By: "x"}} {
		if _, err := svc.Pipeline(context.Background(), q); err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("%+v accepted", q)
		}
	}
}

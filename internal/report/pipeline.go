// Package report computes the pipeline report (issue 20) from the status
// history the console keeps: for a business type and a date range, the
// leads entering each status, the share of them that went on to the
// next status, and how long leads stayed in each status, overall, by
// owner or by source.
//
// The history is partial, and the report says where: a change a sync
// found is stamped when the sync saw it, not when it happened, and moves
// between two syncs are missing; a lead's first status is counted at its
// creation as the first status the console saw it in (a lead that moved
// before the console first saw it never entered its earlier statuses
// here). Figures that rest on such entries are marked approximate.
package report

import (
	"context"
	"slices"
	"sort"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// Groupings of the report.
const (
	ByNone   = ""
	ByOwner  = "owner"
	BySource = "source"
)

// Refusals of a report's query.
var (
	ErrNoBusinessType = msg.Refuse(msg.Invalid, "report.error.no_business_type").On("business_type")
	ErrBadRange       = msg.Refuse(msg.Invalid, "report.error.range").On("from")
	ErrBadGrouping    = msg.Refuse(msg.Invalid, "report.error.by").On("by")
)

// OriginCreated marks the entry of a lead into its first status at its creation.
const OriginCreated = "created"

// Query selects a report: entries into statuses from From to To (Unix
// seconds, To exclusive) of leads of BusinessType, grouped By.
type Query struct {
	BusinessType string
	From, To     int64
	By           string
	// Pipeline is the business type's statuses in order (the reference data's).
	Pipeline []string
}

// Store reads the history (a *db.Store).
type Store interface {
	PipelineHistory(ctx context.Context, businessType string, from, to int64) (db.PipelineData, error)
}

// Service computes reports.
type Service struct{ store Store }

// New is a Service on store.
func New(store Store) *Service { return &Service{store: store} }

// Stage is one status of the pipeline in a group.
type Stage struct {
	Status string
	// Entered counts the entries into the status in the range (a lead
	// entering it twice counts twice); Converted those followed, at any
	// later time, by an entry into the next status of the pipeline.
	Entered, Converted int
	// Durations of the entries that left the status (seconds): their
	// median and 90th percentile (nearest rank); Left counts them.
	Left              int
	MedianSec, P90Sec int64
	ApproxEntries     int      // entries a sync found or creation entries of leads first seen by a sync
	ApproxDurations   int      // durations that start or end at a change a sync found
	Leads             []string // the uuids of the entries, for the bar's list
}

// Conversion is Converted / Entered (0 without entries).
func (s Stage) Conversion() float64 {
	if s.Entered == 0 {
		return 0
	}
	return float64(s.Converted) / float64(s.Entered)
}

// Approximate reports whether any figure of the stage rests on partial history.
func (s Stage) Approximate() bool { return s.ApproxEntries > 0 || s.ApproxDurations > 0 }

// Group is the pipeline of one owner or source ("" key: every lead).
type Group struct {
	Key    string
	Stages []Stage
}

// Report is the computed report.
type Report struct {
	Query  Query
	Groups []Group // the first is always every lead (Key "")
}

// entry is a lead entering a status.
type entry struct {
	lead       db.PipelineLead
	status     string
	at         int64
	origin     string
	exitAt     int64 // 0: still in it
	exitOrigin string
	next       []string // the statuses the lead entered after this one
}

// Pipeline computes the report of q.
func (s *Service) Pipeline(ctx context.Context, q Query) (Report, error) {
	switch {
	case q.BusinessType == "":
		return Report{}, ErrNoBusinessType
	case q.From <= 0 || q.To <= q.From:
		return Report{}, ErrBadRange
	case q.By != ByNone && q.By != ByOwner && q.By != BySource:
		return Report{}, ErrBadGrouping
	}
	data, err := s.store.PipelineHistory(ctx, q.BusinessType, q.From, q.To)
	if err != nil {
		return Report{}, err
	}
	entries := entriesOf(data)
	r := Report{Query: q, Groups: []Group{build("", q, entries)}}
	if q.By == ByNone {
		return r, nil
	}
	byKey := map[string][]entry{}
	for _, e := range entries {
		k := e.lead.Owner
		if q.By == BySource {
			k = e.lead.Source
		}
		byKey[k] = append(byKey[k], e)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.Groups = append(r.Groups, build(k, q, byKey[k]))
	}
	return r, nil
}

// entriesOf turns each lead's history into its entries: its first status
// at its creation, then one per change.
func entriesOf(d db.PipelineData) []entry {
	var out []entry
	for _, l := range d.Leads {
		changes := d.Changes[l.UUID]
		first := entry{lead: l, status: l.Status, at: l.CreatedAt, origin: OriginCreated}
		if len(changes) > 0 {
			first.status = changes[0].From
		}
		seq := []entry{}
		if first.status != "" {
			seq = append(seq, first)
		}
		for _, c := range changes {
			seq = append(seq, entry{lead: l, status: c.To, at: c.At, origin: c.Origin})
		}
		for i := range seq {
			if i+1 < len(seq) {
				seq[i].exitAt, seq[i].exitOrigin = seq[i+1].at, seq[i+1].origin
			}
			for _, later := range seq[i+1:] {
				seq[i].next = append(seq[i].next, later.status)
			}
		}
		out = append(out, seq...)
	}
	return out
}

// build computes the stages of one group's entries.
func build(key string, q Query, entries []entry) Group {
	g := Group{Key: key}
	for i, st := range q.Pipeline {
		stage := Stage{Status: st}
		next := ""
		if i+1 < len(q.Pipeline) {
			next = q.Pipeline[i+1]
		}
		var durations []int64
		for _, e := range entries {
			if e.status != st || e.at < q.From || e.at >= q.To {
				continue
			}
			stage.Entered++
			stage.Leads = append(stage.Leads, e.lead.UUID)
			if next != "" && slices.Contains(e.next, next) {
				stage.Converted++
			}
			if e.origin == db.OriginSync {
				stage.ApproxEntries++
			}
			if e.exitAt > 0 {
				durations = append(durations, max(e.exitAt-e.at, 0))
				if e.origin == db.OriginSync || e.exitOrigin == db.OriginSync {
					stage.ApproxDurations++
				}
			}
		}
		stage.Left = len(durations)
		stage.MedianSec, stage.P90Sec = percentile(durations, 50), percentile(durations, 90)
		g.Stages = append(g.Stages, stage)
	}
	return g
}

// percentile is the nearest-rank p-th percentile of ds (0 when empty).
func percentile(ds []int64, p int) int64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

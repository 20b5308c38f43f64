package db

import (
	"context"
	"fmt"
)

// The pipeline report (issue 20) reads a business type's status history
// with the leads' owner and source.

// PipelineLead is a lead of the report: who owns it, its source, when it
// was created and the status it is in.
type PipelineLead struct {
	UUID, Name, Owner, Source, Status string
	CreatedAt                         int64
}

// PipelineData is a business type's leads (not voided) and their status
// changes, each lead's in order.
type PipelineData struct {
	Leads   []PipelineLead
	Changes map[string][]LeadStatusChange // by lead uuid, oldest first
}

// reportLeads are the leads of a business type (?1, not voided) that
// entered a status from ?2 to ?3 (Unix seconds, ?3 exclusive): created
// then, or with a recorded change then.
// Both arms start from the range (leads_by_created, and Home's lead_status_history_recent):
// a range is a small part of a business type's leads. CROSS JOIN keeps
// that order: with statistics the planner put the business type's leads
// outside and walked the range once per lead (9.7 s at 100,000 leads).
const reportLeads = `WITH ids(uuid) AS MATERIALIZED (
		SELECT l.uuid FROM leads l INDEXED BY leads_by_created
		WHERE l.voided = 0 AND l.created_at >= ?2 AND l.created_at < ?3 AND l.business_type = ?1
		UNION SELECT l.uuid FROM lead_status_history h INDEXED BY lead_status_history_recent CROSS JOIN leads l ON l.uuid = h.lead_uuid
		WHERE h.at >= ?2 AND h.at < ?3 AND l.business_type = ?1 AND l.voided = 0) `

// PipelineHistory reads what the pipeline report of businessType from
// from to to needs: the leads that entered a status in that time, and
// every change of theirs (later ones tell whether they moved on).
func (s *Store) PipelineHistory(ctx context.Context, businessType string, from, to int64) (PipelineData, error) {
	d := PipelineData{Changes: map[string][]LeadStatusChange{}}
	rows, err := s.read.QueryContext(ctx, reportLeads+`SELECT l.uuid, l.name, l.owner, l.source, l.status, l.created_at
		FROM ids CROSS JOIN leads l ON l.uuid = ids.uuid ORDER BY l.id`, businessType, from, to)
	if err != nil {
		return d, fmt.Errorf("db: pipeline leads: %w", err)
	}
	for rows.Next() {
		var l PipelineLead
		if err := rows.Scan(&l.UUID, &l.Name, &l.Owner, &l.Source, &l.Status, &l.CreatedAt); err != nil {
			rows.Close()
			return d, err
		}
		d.Leads = append(d.Leads, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	rows, err = s.read.QueryContext(ctx, reportLeads+`SELECT h.lead_uuid, h.at, h.from_status, h.to_status, h.actor, h.origin
		FROM ids CROSS JOIN lead_status_history h ON h.lead_uuid = ids.uuid ORDER BY h.lead_uuid, h.at, h.id`, businessType, from, to)
	if err != nil {
		return d, fmt.Errorf("db: pipeline history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uuid string
		var c LeadStatusChange
		if err := rows.Scan(&uuid, &c.At, &c.From, &c.To, &c.Actor, &c.Origin); err != nil {
			return d, err
		}
		d.Changes[uuid] = append(d.Changes[uuid], c)
	}
	return d, rows.Err()
}

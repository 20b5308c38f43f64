package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Lead is one lead of the local copy (migration 0005).
type Lead struct {
	UUID          string // jing_uuid
	BusinessType  string
	Status        string // lead_status id
	LifeStatus    string
	LeadPool      string
	Owner         string   // member id ("" when unassigned)
	Collaborators []string // member ids
	// Company is company_id (a name); Source is the source_type option id.
	Name, Mobile, Email, Company, Title, Source string
	Fields                                      json.RawMessage // the whole lead as the platform gave it (custom fields included)
	CreatedAt                                   int64           // platform created_timestamp (Unix s)
	UpdatedAt                                   int64           // platform updated_timestamp
	// StatusSince is when it entered its current status, as well as the
	// platform's timestamps tell: the moment of a webhook's status event or
	// of the console's move; the updated_timestamp of the answer in which
	// a sync saw the status change; for a lead first seen, its
	// updated_timestamp (it has held the status at least since then).
	// StageOrigin says which (leads.Stage reads the two).
	StatusSince int64
	// StageOrigin is the origin of the recorded change that set
	// StatusSince (OriginConsole, OriginWebhook, OriginSync), "" when none
	// did (the lead was first seen with its status).
	StageOrigin string
	Voided      bool
	SyncedAt    int64
}

// LeadFilter selects and orders leads. Zero fields do not filter.
type LeadFilter struct {
	BusinessType, Status, Owner, LeadPool, Source string
	// Query is full-text over name, mobile, email, company and title: any
	// substring, through the trigram index (two characters: the trigrams
	// they begin); a single character falls back to a scan (LIKE).
	Query                                          string
	CreatedFrom, CreatedTo, UpdatedFrom, UpdatedTo int64 // inclusive Unix seconds
	IncludeVoided                                  bool
	// Sort is "updated" (default), "created" or "status_since", all newest
	// first, or "name" (A→Z, by code point).
	Sort          string
	Limit, Offset int // Limit 0: 50; at most 1000
}

// LeadStatusChange is one recorded change of a lead's status.
type LeadStatusChange struct {
	At       int64
	From, To string
	Actor    string // the console user who moved it; "" for sync and webhook
	Origin   string // "console", "sync", "webhook"
	// SentAt, for a console move, is when the move was sent to the
	// platform: a webhook echo of it applied since then is this move.
	SentAt int64
}

// echoWindow is how much earlier than the console sent a move the
// platform's event time of its echo may be (the two clocks differ).
const echoWindow = 120

// Origins of a LeadStatusChange.
const (
	OriginConsole = "console"
	OriginSync    = "sync"
	OriginWebhook = "webhook"
)

// LeadSyncState is whose the local copy is and how fresh (one row).
type LeadSyncState struct {
	Connection string
	// FullSyncedAt is the end of the last complete full sync (0: never).
	FullSyncedAt int64
	// HighWater is the updated_timestamp up to which the copy is complete.
	HighWater    int64
	LastSyncedAt int64
}

const leadColumns = `l.uuid, l.business_type, l.status, l.life_status, l.lead_pool, l.owner, l.collaborators,
	l.name, l.mobile, l.email, l.company, l.title, l.source, l.fields, l.created_at, l.updated_at,
	l.status_since, l.voided, l.synced_at,
	COALESCE((SELECT h.origin FROM lead_status_history h
		WHERE h.lead_uuid = l.uuid AND h.at = l.status_since AND h.to_status = l.status ORDER BY h.id DESC LIMIT 1), '')`

func scanLead(row interface{ Scan(...any) error }) (Lead, error) {
	var l Lead
	var collab, fields string
	err := row.Scan(&l.UUID, &l.BusinessType, &l.Status, &l.LifeStatus, &l.LeadPool, &l.Owner, &collab,
		&l.Name, &l.Mobile, &l.Email, &l.Company, &l.Title, &l.Source, &fields, &l.CreatedAt, &l.UpdatedAt,
		&l.StatusSince, &l.Voided, &l.SyncedAt, &l.StageOrigin)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal([]byte(collab), &l.Collaborators); err != nil {
		return l, fmt.Errorf("lead %s collaborators: %w", l.UUID, err)
	}
	l.Fields = json.RawMessage(fields)
	return l, nil
}

// Lead loads one lead of the copy, voided or not.
func (s *Store) Lead(ctx context.Context, uuid string) (Lead, error) {
	l, err := scanLead(s.read.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads l WHERE l.uuid = ?`, uuid))
	if err != nil {
		return Lead{}, notFound(err, "lead "+uuid)
	}
	return l, nil
}

// leadPlan is how a query of a filter leads SQLite's planner to the index
// MarkLeadVoided marks a lead the platform says is gone. It stays in the
// copy (Lead finds it, with Voided set) but lists leave it out by default.
func (s *Store) MarkLeadVoided(ctx context.Context, uuid string, at int64) error {
	defer s.leadsWritten()
	res, err := s.write.ExecContext(ctx, `UPDATE leads SET voided = 1, voided_at = ? WHERE uuid = ?`, at, uuid)
	if err != nil {
		return fmt.Errorf("db: void lead %s: %w", uuid, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("db: void lead %s: %w", uuid, ErrNotFound)
	}
	return nil
}

// RecordLeadStatusChange adds a change to a lead's history.
func (s *Store) RecordLeadStatusChange(ctx context.Context, uuid string, c LeadStatusChange) error {
	defer s.leadsWritten()
	if c.At == 0 {
		c.At = s.unixNow()
	}
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return insertStatusChange(ctx, tx, uuid, c) }); err != nil {
		return fmt.Errorf("db: record status change of lead %s: %w", uuid, err)
	}
	return nil
}

// LeadStatusHistory lists a lead's status changes, oldest first.
func (s *Store) LeadStatusHistory(ctx context.Context, uuid string) ([]LeadStatusChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, from_status, to_status, actor, origin FROM lead_status_history
		WHERE lead_uuid = ? ORDER BY at, id`, uuid)
	if err != nil {
		return nil, fmt.Errorf("db: status history of lead %s: %w", uuid, err)
	}
	defer rows.Close()
	var out []LeadStatusChange
	for rows.Next() {
		var c LeadStatusChange
		if err := rows.Scan(&c.At, &c.From, &c.To, &c.Actor, &c.Origin); err != nil {
			return nil, fmt.Errorf("db: status history of lead %s: %w", uuid, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LeadsNotSeenBy lists the uuids of the leads not voided that the full
// sync job syncID did not list: after a complete walk, those the platform
// may no longer have.
func (s *Store) LeadsNotSeenBy(ctx context.Context, syncID int64) ([]string, error) {
	return s.queryStrings(ctx, fmt.Sprintf("leads not seen by sync %d", syncID),
		`SELECT uuid FROM leads WHERE voided = 0 AND seen_by_sync <> ? ORDER BY id`, syncID)
}

// CountLeads counts the copy's leads, voided ones included.
func (s *Store) CountLeads(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM leads`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count leads: %w", err)
	}
	return n, nil
}

// LeadSync reads whose the copy is and how fresh.
func (s *Store) LeadSync(ctx context.Context) (LeadSyncState, error) {
	var st LeadSyncState
	err := s.read.QueryRowContext(ctx, `SELECT connection, full_synced_at, high_water, last_synced_at FROM lead_sync WHERE id = 1`).
		Scan(&st.Connection, &st.FullSyncedAt, &st.HighWater, &st.LastSyncedAt)
	if err != nil {
		return st, fmt.Errorf("db: lead sync state: %w", err)
	}
	return st, nil
}

// SaveLeadSync records the end of a sync of connection's copy. A full
// sync sets FullSyncedAt; HighWater never moves backwards.
func (s *Store) SaveLeadSync(ctx context.Context, st LeadSyncState) error {
	defer s.leadsWritten()
	_, err := s.write.ExecContext(ctx, `UPDATE lead_sync SET
		full_synced_at = CASE WHEN ? > 0 THEN ? ELSE full_synced_at END,
		high_water = max(high_water, ?), last_synced_at = ? WHERE id = 1 AND connection = ?`,
		st.FullSyncedAt, st.FullSyncedAt, st.HighWater, st.LastSyncedAt, st.Connection)
	if err != nil {
		return fmt.Errorf("db: save lead sync state: %w", err)
	}
	return nil
}

// ResetLeads gives the copy to connection: when it belonged to another,
// its leads and their history are deleted and its sync state cleared, so
// a full sync fills it anew. It reports whether anything was reset.
func (s *Store) ResetLeads(ctx context.Context, connection string) (bool, error) {
	defer s.leadsWritten()
	reset := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT connection FROM lead_sync WHERE id = 1`).Scan(&cur); err != nil {
			return err
		}
		if cur == connection {
			return nil
		}
		reset = true
		// Another tenant's leads, scores and crowd members must not mix in.
		for _, q := range []string{`DELETE FROM leads`, `DELETE FROM lead_status_history`, `DELETE FROM lead_events`, `DELETE FROM score_cards`,
			`DELETE FROM intention_scores`, `DELETE FROM score_history`, `DELETE FROM crowd_members`, `DELETE FROM crowd_members_fetched`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE lead_sync SET connection = ?, full_synced_at = 0, high_water = 0, last_synced_at = 0
			WHERE id = 1`, connection)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: reset leads for %s: %w", connection, err)
	}
	return reset, nil
}

// LeadStatusClosing reports whether a lead status closes its leads, as far
// as the copy knows: the reference data names it 无效 (invalid) or 已转化
// (converted), or the platform gives the leads in it the lifecycle stage
// "invalid" or "customer" (it derives a lead's stage from its status, so
// the newest lead in the status answers for all: one index lookup).
func (s *Store) LeadStatusClosing(ctx context.Context, connection, businessType, status string) (bool, error) {
	var closing bool
	err := s.read.QueryRowContext(ctx, `SELECT
		EXISTS(SELECT 1 FROM ref_items i JOIN ref_sets r ON r.id = i.set_id
			WHERE r.connection = ? AND r.kind = 'statuses' AND r.object = 'lead' AND (r.scope = ? OR ? = '')
				AND i.id = ? AND i.name IN ('无效', '已转化'))
		OR coalesce((SELECT l.life_status FROM leads l WHERE l.business_type = ? AND l.status = ? AND l.voided = 0
			ORDER BY l.updated_at DESC LIMIT 1), '') IN ('invalid', 'customer')`,
		connection, businessType, businessType, status, businessType, status).Scan(&closing)
	if err != nil {
		return false, fmt.Errorf("db: lead status %s closing: %w", status, err)
	}
	return closing, nil
}

package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
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

// Queries of three characters or more are a trigram phrase; of two, the
// OR of the indexed trigrams they begin; of one, a scan (LIKE).
const minTrigramQuery = 3

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

// UpsertLeads writes leads as the platform answered them, in one
// transaction. A lead not seen before enters its status now (unless
// StatusSince is set); a lead whose status differs from the copy's
// entered it now, and the change is recorded with Origin "sync". An answer
// older than the copy (a smaller UpdatedAt) does not overwrite it, but
// still counts as seen (SyncedAt). A voided lead the platform lists again
// is no longer voided.
func (s *Store) UpsertLeads(ctx context.Context, leads []Lead) error {
	return s.upsertLeads(ctx, "", 0, leads)
}

// ErrLeadCopyMoved refuses a sync's write to a copy that was given to
// another platform connection since the sync started.
var ErrLeadCopyMoved = errors.New("the lead copy belongs to another platform connection")

// UpsertSyncedLeads is UpsertLeads for a sync of connection's copy: it
// refuses (ErrLeadCopyMoved) when the copy now belongs to another
// connection, and with a full sync's job id (syncID > 0) marks the leads
// as listed by it (LeadsNotSeenBy).
func (s *Store) UpsertSyncedLeads(ctx context.Context, connection string, syncID int64, leads []Lead) error {
	return s.upsertLeads(ctx, connection, syncID, leads)
}

func (s *Store) upsertLeads(ctx context.Context, connection string, syncID int64, leads []Lead) error {
	// The version moves only when a lead changed: a synced page or an
	// answer that repeats the copy leaves what pages drew from it valid.
	changed := false
	defer func() {
		if changed {
			s.leadsWritten()
		}
	}()
	if len(leads) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if connection != "" {
			var cur string
			if err := tx.QueryRowContext(ctx, `SELECT connection FROM lead_sync WHERE id = 1`).Scan(&cur); err != nil {
				return err
			}
			if cur != connection {
				return ErrLeadCopyMoved
			}
		}
		w, err := newLeadWriter(ctx, tx, s.unixNow())
		if err != nil {
			return err
		}
		defer w.close()
		w.syncID = syncID
		for _, l := range leads {
			c, err := w.upsert(ctx, l, LeadStatusChange{Origin: OriginSync})
			if err != nil {
				return fmt.Errorf("lead %s: %w", l.UUID, err)
			}
			changed = changed || c
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: upsert leads: %w", err)
	}
	return nil
}

// SaveMovedLead writes a lead the console just moved, as re-read from the
// platform, and records the move (c.Origin, c.Actor; c.At and c.From are
// filled when zero) in one transaction. The lead enters its status at c.At.
// When the platform's webhook echo of the move was applied first (the copy
// already has the status, and the last recorded change is the webhook's
// to that status, no earlier than c.SentAt allows), the move is not
// recorded twice: that change is credited to c.Actor.
func (s *Store) SaveMovedLead(ctx context.Context, l Lead, c LeadStatusChange) error {
	defer s.leadsWritten()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		w, err := newLeadWriter(ctx, tx, s.unixNow())
		if err != nil {
			return err
		}
		defer w.close()
		if c.At == 0 {
			c.At = w.now
		}
		c.To = l.Status
		if err := claimEcho(ctx, tx, l.UUID, c); err != nil {
			return err
		}
		_, err = w.upsert(ctx, l, c)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: save moved lead %s: %w", l.UUID, err)
	}
	return nil
}

// leadWriter holds the statements of one upsert transaction.
type leadWriter struct {
	tx                    *sql.Tx
	now                   int64
	syncID                int64 // the full sync writing, 0 for none
	get, ins, upd, updTxt *sql.Stmt
}

func newLeadWriter(ctx context.Context, tx *sql.Tx, now int64) (*leadWriter, error) {
	w := &leadWriter{tx: tx, now: now}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return st
	}
	w.get = prep(`SELECT id, status, status_since, updated_at, voided, name, mobile, email, company, title,
		business_type, life_status, lead_pool, owner, collaborators, source, fields, created_at,
		CAST(COALESCE(json_extract(fields, '$.latest_remark'), '') AS TEXT) FROM leads WHERE uuid = ?`)
	w.ins = prep(`INSERT INTO leads(uuid, business_type, status, life_status, lead_pool, owner, collaborators, name, mobile,
		email, company, title, source, fields, created_at, updated_at, status_since, voided, voided_at, synced_at, seen_by_sync)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,?,?)`)
	const set = `business_type = ?, status = ?, life_status = ?, lead_pool = ?, owner = ?, collaborators = ?, source = ?,
		fields = ?, created_at = ?, updated_at = ?, status_since = ?, voided = 0, voided_at = 0, synced_at = ?,
		seen_by_sync = CASE WHEN ? > 0 THEN ? ELSE seen_by_sync END`
	// Without the searched columns when they are unchanged, so the FTS
	// trigger (AFTER UPDATE OF those columns) does not rewrite the index.
	w.upd = prep(`UPDATE leads SET ` + set + ` WHERE id = ?`)
	w.updTxt = prep(`UPDATE leads SET ` + set + `, name = ?, mobile = ?, email = ?, company = ?, title = ? WHERE id = ?`)
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *leadWriter) close() {
	for _, st := range []*sql.Stmt{w.get, w.ins, w.upd, w.updTxt} {
		if st != nil {
			st.Close()
		}
	}
}

// firstSeenSince is when a lead first seen (by a sync, or a test's
// fixture) entered its status, as far as the platform says: it has not
// changed since its updated_timestamp (leads.Stage reads it as "at least
// since"); the console's clock only when the platform gave no timestamp.
func firstSeenSince(l Lead, now int64) int64 {
	if l.UpdatedAt > 0 && l.UpdatedAt <= now {
		return l.UpdatedAt
	}
	return now
}

// upsert writes l. A status change is recorded as c says (Origin, Actor;
// At defaults to now); c.Origin "" records none. It reports whether the
// lead as the pages show it changed (anything but when it was synced).
func (w *leadWriter) upsert(ctx context.Context, l Lead, c LeadStatusChange) (changed bool, err error) {
	if l.UUID == "" {
		return false, errors.New("no uuid")
	}
	collab, err := json.Marshal(nonNilStrings(l.Collaborators))
	if err != nil {
		return false, err
	}
	fields := string(l.Fields)
	if fields == "" {
		fields = "{}"
	}
	var (
		id, since, updated, created         int64
		status                              string
		voided                              bool
		name, mob, em, co, tit              string
		bt, life, pool, owner, col, src, fs string
		side                                leadSide // issue 20: what the timeline compares
	)
	err = w.get.QueryRowContext(ctx, l.UUID).Scan(&id, &status, &since, &updated, &voided, &name, &mob, &em, &co, &tit,
		&bt, &life, &pool, &owner, &col, &src, &fs, &created, &side.remark)
	if errors.Is(err, sql.ErrNoRows) {
		if err := recordLeadSides(ctx, w.tx, w.now, nil, l, c); err != nil { // issue 20: the timeline
			return false, err
		}
		since := l.StatusSince
		if since == 0 {
			since = firstSeenSince(l, w.now)
		}
		_, err = w.ins.ExecContext(ctx, l.UUID, l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, collab,
			l.Name, l.Mobile, l.Email, l.Company, l.Title, l.Source, fields, l.CreatedAt, l.UpdatedAt, since, w.now, w.syncID)
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	if l.UpdatedAt < updated && !voided {
		// An older answer than the copy: seen, but not newer.
		_, err = w.tx.ExecContext(ctx, `UPDATE leads SET synced_at = ?, seen_by_sync = CASE WHEN ? > 0 THEN ? ELSE seen_by_sync END
			WHERE id = ?`, w.now, w.syncID, w.syncID, id)
		return false, err
	}
	if l.Status != status {
		at := c.At
		if at == 0 && l.UpdatedAt > 0 {
			// A sync saw the change: it happened by the answer's
			// updated_timestamp, not when the console looked.
			at = l.UpdatedAt
		}
		if at == 0 {
			at = w.now
		}
		since = at
		if c.Origin != "" {
			c.At, c.From, c.To = at, status, l.Status
			if err := insertStatusChange(ctx, w.tx, l.UUID, c); err != nil {
				return false, err
			}
		}
	}
	sameText := name == l.Name && mob == l.Mobile && em == l.Email && co == l.Company && tit == l.Title
	changed = !sameText || voided || l.Status != status || l.UpdatedAt != updated || l.CreatedAt != created ||
		l.BusinessType != bt || l.LifeStatus != life || l.LeadPool != pool || l.Owner != owner || string(collab) != col ||
		l.Source != src || fields != fs
	side.owner, side.remark = owner, strings.TrimSpace(side.remark)
	_ = json.Unmarshal([]byte(col), &side.collab)
	if err := recordLeadSides(ctx, w.tx, w.now, &side, l, c); err != nil { // issue 20: the timeline
		return false, err
	}
	args := []any{l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, collab, l.Source, fields,
		l.CreatedAt, l.UpdatedAt, since, w.now, w.syncID, w.syncID}
	if sameText {
		_, err = w.upd.ExecContext(ctx, append(args, id)...)
	} else {
		_, err = w.updTxt.ExecContext(ctx, append(args, l.Name, l.Mobile, l.Email, l.Company, l.Title, id)...)
	}
	return changed, err
}

// claimEcho credits a console move's webhook echo, applied before the
// move was saved, to the user who moved the card: the last change recorded
// for the lead, when it is the webhook's, to the moved status, since the
// move was sent (within echoWindow). Nothing happens otherwise.
func claimEcho(ctx context.Context, tx *sql.Tx, uuid string, c LeadStatusChange) error {
	if c.Origin != OriginConsole || c.SentAt == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE lead_status_history SET actor = ?, origin = ?
		WHERE id = (SELECT id FROM lead_status_history WHERE lead_uuid = ? ORDER BY at DESC, id DESC LIMIT 1)
			AND to_status = ? AND origin = ? AND at >= ?
			AND EXISTS (SELECT 1 FROM leads WHERE uuid = ? AND status = ?)`,
		c.Actor, OriginConsole, uuid, c.To, OriginWebhook, c.SentAt-echoWindow, uuid, c.To)
	return err
}

func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func insertStatusChange(ctx context.Context, tx *sql.Tx, uuid string, c LeadStatusChange) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO lead_status_history(lead_uuid, at, from_status, to_status, actor, origin)
		VALUES(?,?,?,?,?,?)`, uuid, c.At, c.From, c.To, c.Actor, c.Origin)
	return err
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
// that answers it without reading the whole copy (TestHotPathsUseIndexes
// checks the plans).
type leadPlan struct {
	withStatus bool // the filter's status is a condition (the board's counts leave it out)
	// counting: the query counts what the filter selects. When a filter
	// with an index of its own is set (owner, source, pool, a date range),
	// the business type and status are written as expressions (+col), not
	// offered as index terms: that index holds them and counts without a
	// row, where the planner otherwise walked the business type's whole
	// column in leads_board, reading each lead (60,000 at 100,000 leads).
	counting bool
	// probeSearch: the search matches many leads (more than
	// searchDriveMax), so its matches are collected once and probed while
	// another index is walked, instead of each match's row being read.
	probeSearch bool
}

// searchDriveMax is the most matches of a search that are read one by
// one (by rowid) to apply the other filters; above it they are probed.
const searchDriveMax = 1000

// leadWhere builds the WHERE clause of f as p says.
func leadWhere(f LeadFilter, p leadPlan) (string, []any) {
	var conds []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	if !f.IncludeVoided {
		conds = append(conds, "l.voided = 0")
	}
	kind := "l."
	if p.counting && f.hasOwnIndex() {
		kind = "+l."
	}
	eq(kind+"business_type", f.BusinessType)
	if p.withStatus {
		eq(kind+"status", f.Status)
	}
	eq("l.owner", f.Owner)
	eq("l.lead_pool", f.LeadPool)
	if f.LeadPool != "" {
		// Implied, and said so the planner may use the pools' partial index.
		conds = append(conds, "l.lead_pool != ''")
	}
	eq("l.source", f.Source)
	rng := func(col string, from, to int64) {
		if from != 0 {
			conds = append(conds, col+" >= ?")
			args = append(args, from)
		}
		if to != 0 {
			conds = append(conds, col+" <= ?")
			args = append(args, to)
		}
	}
	rng("l.created_at", f.CreatedFrom, f.CreatedTo)
	rng("l.updated_at", f.UpdatedFrom, f.UpdatedTo)
	if q := strings.TrimSpace(f.Query); q != "" {
		if rowids, sargs, ok := searchRowids(q); ok {
			id := "l.id"
			if p.probeSearch {
				id = "+l.id"
			}
			conds = append(conds, id+" IN ("+rowids+")")
			args = append(args, sargs...)
		} else {
			cond, largs := leadLike(q)
			conds, args = append(conds, cond), append(args, largs...)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// hasOwnIndex reports a filter one of whose conditions has an index
// holding the business type and status (migration 0015).
func (f LeadFilter) hasOwnIndex() bool {
	return f.Owner != "" || f.Source != "" || f.LeadPool != "" ||
		f.CreatedFrom != 0 || f.CreatedTo != 0 || f.UpdatedFrom != 0 || f.UpdatedTo != 0
}

// searchRowids is the SELECT of the rowids (lead ids) a search matches
// through the trigram index: a phrase of three characters or more; of
// two, the OR of the indexed trigrams they begin (values are indexed
// between spaces, so every occurrence begins one). A single character
// has no index (ok false): it is a scan.
func searchRowids(q string) (string, []any, bool) {
	switch n := utf8.RuneCountInString(q); {
	case n >= minTrigramQuery:
		return "SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?", []any{ftsPhrase(q)}, true
	case n == minTrigramQuery-1:
		lq := strings.ToLower(q)
		return `SELECT rowid FROM leads_fts WHERE leads_fts MATCH
				(SELECT coalesce(group_concat('"' || replace(term, '"', '""') || '"', ' OR '), '"'||char(1)||char(1)||char(1)||'"')
				FROM leads_fts_terms WHERE term >= ? AND term < ? || char(1114111))`, []any{lq, lq}, true
	}
	return "", nil, false
}

// searchMatches counts the leads (voided ones included) a search matches
// in the trigram index alone; ok is false for a search without the index.
func (s *Store) searchMatches(ctx context.Context, q string) (n int, ok bool, err error) {
	rowids, args, ok := searchRowids(strings.TrimSpace(q))
	if !ok {
		return 0, false, nil
	}
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM (`+rowids+`)`, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("db: count search matches: %w", err)
	}
	return n, true, nil
}

// plan is how queries of f are written: a search's size is looked up
// first (in the trigram index alone) to choose how it is joined.
func (s *Store) plan(ctx context.Context, f LeadFilter, p leadPlan) (leadPlan, error) {
	if strings.TrimSpace(f.Query) == "" {
		return p, nil
	}
	n, ok, err := s.searchSize(ctx, f.Query)
	p.probeSearch = ok && n > searchDriveMax
	return p, err
}

// searchSize is searchMatches, remembered for the copy's version: the
// board asks it for its counts and again for each of its columns. It only
// chooses a plan: a size counted across a write changes how a query is
// joined, never its answer.
func (s *Store) searchSize(ctx context.Context, q string) (int, bool, error) {
	q = strings.TrimSpace(q)
	v := s.LeadsVersion()
	s.searchSizes.Lock()
	if s.searchSizes.n == nil || s.searchSizes.version != v || len(s.searchSizes.n) > 256 {
		s.searchSizes.version, s.searchSizes.n = v, map[string]int{}
	}
	n, known := s.searchSizes.n[q]
	s.searchSizes.Unlock()
	if known {
		return n, n >= 0, nil
	}
	n, ok, err := s.searchMatches(ctx, q)
	if err != nil {
		return 0, false, err
	}
	if !ok {
		n = -1
	}
	s.searchSizes.Lock()
	if s.searchSizes.version == v {
		s.searchSizes.n[q] = n
	}
	s.searchSizes.Unlock()
	return n, ok, nil
}

// leadLike is the scan finding a query too short for the index.
func leadLike(q string) (string, []any) {
	like := "%" + likeEscaper.Replace(q) + "%"
	var ors []string
	var args []any
	for _, col := range []string{"name", "mobile", "email", "company", "title"} {
		ors = append(ors, "l."+col+` LIKE ? ESCAPE '\'`)
		args = append(args, like)
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// ftsPhrase quotes q as one FTS5 phrase: with the trigram tokenizer, a
// substring match anywhere in the indexed columns.
func ftsPhrase(q string) string { return `"` + strings.ReplaceAll(q, `"`, `""`) + `"` }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// leadOrder is the ORDER BY of a sort. Ties are broken in the order of
// the sort's index (migration 0015: the key, then business type, status
// and the other date) and last by the id, so pages never overlap and the
// index gives the order as it is walked: a page deep in the list skips
// index entries instead of sorting the rows (the id alone after the key
// made SQLite sort every lead the filter selects). Time sorts read the
// indexes backwards.
func leadOrder(sort string) string {
	switch sort {
	case "created":
		return " ORDER BY l.created_at DESC, l.business_type DESC, l.status DESC, l.updated_at DESC, l.id DESC"
	case "name":
		return " ORDER BY l.name, l.business_type, l.status, l.id"
	case "status_since":
		return " ORDER BY l.status_since DESC, l.business_type DESC, l.status DESC, l.id DESC"
	}
	return " ORDER BY l.updated_at DESC, l.business_type DESC, l.status DESC, l.created_at DESC, l.id DESC"
}

// Lead page sizes.
const (
	DefaultLeadLimit = 50
	MaxLeadLimit     = 1000
)

// ListLeads returns one page of the leads f selects, in f's order, and how
// many it selects in all. Voided leads are left out unless f asks for them.
func (s *Store) ListLeads(ctx context.Context, f LeadFilter) ([]Lead, int, error) {
	total, err := s.countLeads(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	if total == 0 || f.Offset >= total {
		return nil, total, nil
	}
	out, err := s.leadsPage(ctx, f, total)
	return out, total, err
}

// countLeads counts the leads f selects: from the tally when the filter
// is by business type and status alone, or by an owner or a pool alone
// (keptCount); for a search alone, from the trigram index (its matches
// less the voided ones); otherwise over the filter's index.
func (s *Store) countLeads(ctx context.Context, f LeadFilter) (int, error) {
	if f.countable() {
		counts, err := s.CountLeadsByStatus(ctx, f)
		if err != nil {
			return 0, err
		}
		total := 0
		for st, n := range counts {
			if f.Status == "" || st == f.Status {
				total += n
			}
		}
		return total, nil
	}
	if n, ok, err := s.keptCount(ctx, f); ok || err != nil {
		return n, err
	}
	p, err := s.plan(ctx, f, leadPlan{withStatus: true, counting: true})
	if err != nil {
		return 0, err
	}
	if rest := f; rest.Query != "" {
		rest.Query, rest.IncludeVoided = "", false
		if n, ok, err := s.searchSize(ctx, f.Query); err != nil {
			return 0, err
		} else if ok && rest.countable() && rest.BusinessType == "" && rest.Status == "" {
			return s.searchCount(ctx, f, n)
		}
	}
	where, args := leadWhere(f, p)
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM leads l`+where, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("db: count leads: %w", err)
	}
	return total, nil
}

// searchCount is the count of a search alone that matches n leads in the
// trigram index: n, less the voided leads among them unless f includes
// them (the few voided leads are walked and probed, not the matches read).
func (s *Store) searchCount(ctx context.Context, f LeadFilter, n int) (int, error) {
	if f.IncludeVoided {
		return n, nil
	}
	rowids, args, _ := searchRowids(strings.TrimSpace(f.Query))
	var voided int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM leads l WHERE l.voided = 1 AND +l.id IN (`+rowids+`)`,
		args...).Scan(&voided); err != nil {
		return 0, fmt.Errorf("db: count leads: %w", err)
	}
	return n - voided, nil
}

// LeadsPage is ListLeads without the count: for a caller that knows it
// (a board column, counted with the others).
func (s *Store) LeadsPage(ctx context.Context, f LeadFilter) ([]Lead, error) {
	return s.leadsPage(ctx, f, -1)
}

// leadsPage reads f's page. Knowing the total (-1: not known), a page past
// the middle is read from the other end of the order and turned round: it
// skips at most half the leads instead of all before it (the last page of
// 100,000 skipped 99,950 index entries).
func (s *Store) leadsPage(ctx context.Context, f LeadFilter, total int) ([]Lead, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLeadLimit
	}
	limit = min(limit, MaxLeadLimit)
	p, err := s.plan(ctx, f, leadPlan{withStatus: true})
	if err != nil {
		return nil, err
	}
	where, args := leadWhere(f, p)
	order, offset := leadOrder(f.Sort), max(f.Offset, 0)
	fromEnd := total > 0 && offset > total/2 && offset < total
	if fromEnd {
		// The page is [offset, offset+limit) of total: from the end, it
		// starts total-offset-limit in (a short last page: at 0, shorter).
		order, offset, limit = reverseOrder(order), max(total-offset-limit, 0), min(limit, total-offset)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l`+where+order+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("db: list leads: %w", err)
	}
	defer rows.Close()
	var out []Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list leads: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list leads: %w", err)
	}
	if fromEnd {
		slices.Reverse(out)
	}
	return out, nil
}

// reverseOrder is an ORDER BY (leadOrder's) the other way round.
func reverseOrder(order string) string {
	keys := strings.Split(strings.TrimPrefix(order, " ORDER BY "), ", ")
	for i, k := range keys {
		if key, desc := strings.CutSuffix(k, " DESC"); desc {
			keys[i] = key
		} else {
			keys[i] = k + " DESC"
		}
	}
	return " ORDER BY " + strings.Join(keys, ", ")
}

// CountLeadsByStatus counts the leads f selects per status, ignoring
// f.Status: the board's column counts. Statuses without leads are absent.
// Filtered by business type alone, the counts come from the tally the
// triggers keep (lead_counts) instead of counting tens of thousands of leads.
func (s *Store) CountLeadsByStatus(ctx context.Context, f LeadFilter) (map[string]int, error) {
	q, args := `SELECT status, sum(n) FROM lead_counts WHERE (? OR voided = 0) AND (? = '' OR business_type = ?) GROUP BY status`,
		[]any{f.IncludeVoided, f.BusinessType, f.BusinessType}
	if !f.countable() {
		p, err := s.plan(ctx, f, leadPlan{counting: true})
		if err != nil {
			return nil, err
		}
		where, wargs := leadWhere(f, p)
		q, args = `SELECT l.status, count(*) FROM leads l`+where+` GROUP BY l.status`, wargs
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: count leads by status: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("db: count leads by status: %w", err)
		}
		if n > 0 {
			out[st] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: count leads by status: %w", err)
	}
	return out, nil
}

// countable reports a filter whose counts the tally (lead_counts) holds:
// by business type and status alone.
func (f LeadFilter) countable() bool {
	return f.Owner == "" && f.LeadPool == "" && f.Source == "" && strings.TrimSpace(f.Query) == "" &&
		f.CreatedFrom == 0 && f.CreatedTo == 0 && f.UpdatedFrom == 0 && f.UpdatedTo == 0
}

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

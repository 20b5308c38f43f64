package db

import (
	"context"
	"fmt"
	"strings"
)

// Accounts (客户, issue 20): the catalog has no account endpoint, so the
// console knows an account two ways: from the webhooks that deliver it
// (the accounts table, migration 0011) and as an id a lead carries in
// account_id (migration 0017's leads_account index).

// accountIDOfLead is the account id inside a lead's fields; the partial
// index leads_account is on this expression, for leads that have one.
const accountIDOfLead = `json_extract(l.fields, '$.account_id')`

// AccountRow is one account of the accounts list.
type AccountRow struct {
	UUID, Name, BusinessType, Owner string
	Voided                          bool
	// Delivered: a webhook delivered the account (its fields are known, as
	// of ChangedAt); otherwise only leads name its id.
	Delivered bool
	ChangedAt int64
	Leads     int // leads of the copy (not voided) that name it
}

// AccountFilter selects accounts. Zero fields do not filter; an account
// only seen on leads has no name, business type or owner, so it matches
// a query only by its id.
type AccountFilter struct {
	Query, BusinessType, Owner string
	Limit, Offset              int // Limit 0: 50; at most 500
}

// accountsFrom is every account the console knows, delivered or only named
// by leads, with its count of leads.
const accountsFrom = `WITH seen AS (
		SELECT ` + accountIDOfLead + ` AS uuid, SUM(l.voided = 0) AS n FROM leads l
		WHERE ` + accountIDOfLead + ` IS NOT NULL GROUP BY 1),
	ids AS (SELECT uuid FROM accounts UNION SELECT uuid FROM seen WHERE uuid <> '')
	SELECT i.uuid, COALESCE(a.name, ''), COALESCE(a.business_type, ''), COALESCE(a.owner, ''), COALESCE(a.voided, 0),
		a.uuid IS NOT NULL, COALESCE(a.changed_at, 0), COALESCE(s.n, 0)
	FROM ids i LEFT JOIN accounts a ON a.uuid = i.uuid LEFT JOIN seen s ON s.uuid = i.uuid`

// ListAccounts returns a page of accounts, the delivered ones first by
// name, and how many match.
func (s *Store) ListAccounts(ctx context.Context, f AccountFilter) ([]AccountRow, int, error) {
	var conds []string
	var args []any
	if q := strings.TrimSpace(f.Query); q != "" {
		conds = append(conds, `(a.name LIKE ? ESCAPE '\' OR i.uuid = ?)`)
		args = append(args, "%"+escapeLike(q)+"%", q)
	}
	if f.BusinessType != "" {
		conds, args = append(conds, "a.business_type = ?"), append(args, f.BusinessType)
	}
	if f.Owner != "" {
		conds, args = append(conds, "a.owner = ?"), append(args, f.Owner)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+accountsFrom+where+`)`, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("db: count accounts: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, accountsFrom+where+` ORDER BY a.uuid IS NULL, a.name, i.uuid LIMIT ? OFFSET ?`,
		append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("db: list accounts: %w", err)
	}
	defer rows.Close()
	var out []AccountRow
	for rows.Next() {
		var a AccountRow
		if err := rows.Scan(&a.UUID, &a.Name, &a.BusinessType, &a.Owner, &a.Voided, &a.Delivered, &a.ChangedAt, &a.Leads); err != nil {
			return nil, 0, fmt.Errorf("db: list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// AccountLeads returns up to limit leads of the copy that name the
// account (voided ones after the others, newest first), and how many
// there are.
func (s *Store) AccountLeads(ctx context.Context, uuid string, limit int) ([]Lead, int, error) {
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads l WHERE `+accountIDOfLead+` IS NOT NULL AND `+
		accountIDOfLead+` = ?`, uuid).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("db: leads of account %s: %w", uuid, err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads l WHERE `+accountIDOfLead+` IS NOT NULL AND `+
		accountIDOfLead+` = ? ORDER BY l.voided, l.updated_at DESC LIMIT ?`, uuid, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("db: leads of account %s: %w", uuid, err)
	}
	defer rows.Close()
	var out []Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("db: leads of account %s: %w", uuid, err)
		}
		out = append(out, l)
	}
	return out, total, rows.Err()
}

// AccountNames maps the given account ids to the names the console knows
// (an id without a delivered account is left out).
func (s *Store) AccountNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.read.QueryContext(ctx, `SELECT uuid, name FROM accounts WHERE uuid IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: account names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

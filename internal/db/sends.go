package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Send states (migration 0007 explains them).
const (
	SendDraft            = "draft"
	SendAwaitingApproval = "awaiting_approval"
	SendApproved         = "approved"
	SendSubmitting       = "submitting"
	SendSubmitted        = "submitted"
	SendDone             = "done"
	SendUnknown          = "unknown"
	SendFailed           = "failed"
	SendCancelled        = "cancelled"
)

// Send is one SMS or email send: the ledger row.
type Send struct {
	ID             int64
	Key            string
	Attempt        int
	Channel        string // "sms" or "edm"
	Test           bool
	State          string
	Connection     string
	Name           string
	SMSID          string
	Content        string
	Signature      string
	Subject        string
	MailboxID      string
	Sender         string
	GroupIDs       []int64
	Mobiles        []string
	Excluded       []string
	AudienceCount  int64
	SendTime       int64
	CreatedBy      int64
	CreatedByName  string
	CreatedAt      int64
	UpdatedAt      int64
	ConfirmedBy    int64
	ConfirmedAt    int64
	ApprovedBy     int64
	ApprovedByName string
	ApprovedAt     int64
	SubmitAt       int64
	SubmittedAt    int64
	PlatformID     string
	PlatformStatus string
	Counts         SendCounts
	CheckedAt      int64
	LastError      string
	RequestID      string
	Evidence       string
}

// SendCounts are the platform's delivery counts of a send.
type SendCounts struct {
	Total, Sent, Delivered, Failed, Opened, Clicked, Bounced int64
}

// PlatformName is the name the platform knows the send by: the user's
// name with the send key (and attempt) in it, so the console can find the
// send on the platform again.
func (s Send) PlatformName() string {
	tag := s.Key
	if s.Attempt > 1 {
		tag = fmt.Sprintf("%s-%d", s.Key, s.Attempt)
	}
	return fmt.Sprintf("%s [%s]", s.Name, tag)
}

const sendColumns = `s.id, s.send_key, s.attempt, s.channel, s.test, s.state, s.connection, s.name, s.sms_id, s.content,
	s.signature, s.subject, s.mailbox_id, s.sender, s.group_ids, s.mobiles, s.excluded, s.audience_count, s.send_time,
	s.created_by, COALESCE(NULLIF(cu.display_name, ''), cu.username, ''), s.created_at, s.updated_at,
	COALESCE(s.confirmed_by, 0), s.confirmed_at, COALESCE(s.approved_by, 0), COALESCE(NULLIF(au.display_name, ''), au.username, ''),
	s.approved_at, s.submit_at, s.submitted_at, s.platform_id, s.platform_status,
	s.total, s.sent, s.delivered, s.failed, s.opened, s.clicked, s.bounced, s.checked_at, s.last_error, s.request_id, s.evidence
	FROM sends s LEFT JOIN users cu ON cu.id = s.created_by LEFT JOIN users au ON au.id = s.approved_by`

func scanSend(row interface{ Scan(...any) error }) (Send, error) {
	var s Send
	var groups, mobiles, excluded string
	c := &s.Counts
	err := row.Scan(&s.ID, &s.Key, &s.Attempt, &s.Channel, &s.Test, &s.State, &s.Connection, &s.Name, &s.SMSID, &s.Content,
		&s.Signature, &s.Subject, &s.MailboxID, &s.Sender, &groups, &mobiles, &excluded, &s.AudienceCount, &s.SendTime,
		&s.CreatedBy, &s.CreatedByName, &s.CreatedAt, &s.UpdatedAt, &s.ConfirmedBy, &s.ConfirmedAt, &s.ApprovedBy, &s.ApprovedByName,
		&s.ApprovedAt, &s.SubmitAt, &s.SubmittedAt, &s.PlatformID, &s.PlatformStatus,
		&c.Total, &c.Sent, &c.Delivered, &c.Failed, &c.Opened, &c.Clicked, &c.Bounced, &s.CheckedAt, &s.LastError, &s.RequestID, &s.Evidence)
	if err != nil {
		return Send{}, err
	}
	for _, f := range []struct {
		raw string
		to  any
	}{{groups, &s.GroupIDs}, {mobiles, &s.Mobiles}, {excluded, &s.Excluded}} {
		if err := json.Unmarshal([]byte(f.raw), f.to); err != nil {
			return Send{}, fmt.Errorf("send %d: %w", s.ID, err)
		}
	}
	return s, nil
}

// SendDraftInput is what a draft holds (everything a user edits).
type SendDraftInput struct {
	Channel    string
	Test       bool
	Connection string
	Name       string
	SMSID      string
	Content    string
	Signature  string
	Subject    string
	MailboxID  string
	Sender     string
	GroupIDs   []int64
	Mobiles    []string
	Excluded   []string
	SendTime   int64
}

func jsonList[T any](v []T) string {
	b, _ := json.Marshal(nonNil(v))
	return string(b)
}

// CreateSend writes a draft with its unique key.
func (s *Store) CreateSend(ctx context.Context, key string, userID int64, in SendDraftInput) (int64, error) {
	now := s.unixNow()
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO sends(send_key, channel, test, state, connection, name, sms_id, content, signature,
		subject, mailbox_id, sender, group_ids, mobiles, excluded, send_time, created_by, created_at, updated_at)
		VALUES(?,?,?,'draft',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		key, in.Channel, in.Test, in.Connection, in.Name, in.SMSID, in.Content, in.Signature, in.Subject, in.MailboxID, in.Sender,
		jsonList(in.GroupIDs), jsonList(in.Mobiles), jsonList(in.Excluded), in.SendTime, userID, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: create send: %w", err)
	}
	return id, nil
}

// UpdateSendDraft changes a draft; a send past draft is ErrConflict.
func (s *Store) UpdateSendDraft(ctx context.Context, id int64, in SendDraftInput) error {
	res, err := s.write.ExecContext(ctx, `UPDATE sends SET name = ?, sms_id = ?, content = ?, signature = ?, subject = ?,
		mailbox_id = ?, sender = ?, group_ids = ?, mobiles = ?, excluded = ?, send_time = ?, updated_at = ?
		WHERE id = ? AND state = 'draft'`,
		in.Name, in.SMSID, in.Content, in.Signature, in.Subject, in.MailboxID, in.Sender,
		jsonList(in.GroupIDs), jsonList(in.Mobiles), jsonList(in.Excluded), in.SendTime, s.unixNow(), id)
	return sendChanged(res, err, id)
}

// Send loads one send.
func (s *Store) Send(ctx context.Context, id int64) (Send, error) {
	sd, err := scanSend(s.read.QueryRowContext(ctx, `SELECT `+sendColumns+` WHERE s.id = ?`, id))
	if err != nil {
		return Send{}, notFound(err, fmt.Sprintf("send %d", id))
	}
	return sd, nil
}

// SendFilter narrows ListSends.
type SendFilter struct {
	Channel string
	States  []string // any of these; empty: all
	Tests   bool     // include test sends
	Limit   int      // default 50, at most 500
	Offset  int
}

// ListSends returns sends newest first.
func (s *Store) ListSends(ctx context.Context, f SendFilter) ([]Send, error) {
	where, args := []string{"1=1"}, []any{}
	if f.Channel != "" {
		where, args = append(where, "s.channel = ?"), append(args, f.Channel)
	}
	if len(f.States) > 0 {
		where = append(where, "s.state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if !f.Tests {
		where = append(where, "s.test = 0")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	return s.querySends(ctx, "list sends", `SELECT `+sendColumns+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY s.id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
}

// querySends runs q (SELECT sendColumns …) and scans its sends.
func (s *Store) querySends(ctx context.Context, what, q string, args ...any) ([]Send, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Send
	for rows.Next() {
		sd, err := scanSend(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sd)
	}
	return out, rows.Err()
}

// SendTransition is one atomic step of the ledger: from one of From to
// To, setting Set (column → value) too. It happens only if the send is
// in one of From: of racing callers exactly one gets nil, the others
// ErrConflict.
type SendTransition struct {
	From []string
	To   string
	Set  map[string]any
}

// sendSettable are the columns a transition may set.
var sendSettable = map[string]bool{
	"confirmed_by": true, "confirmed_at": true, "approved_by": true, "approved_at": true, "audience_count": true,
	"submit_at": true, "submitted_at": true, "platform_id": true, "platform_status": true, "last_error": true,
	"request_id": true, "evidence": true, "attempt": true, "send_key": true,
}

// TransitionSend applies t to send id.
func (s *Store) TransitionSend(ctx context.Context, id int64, t SendTransition) error {
	sets := []string{"state = ?", "updated_at = ?"}
	args := []any{t.To, s.unixNow()}
	for col, v := range t.Set {
		if !sendSettable[col] {
			return fmt.Errorf("db: send %d: column %q cannot be set by a transition", id, col)
		}
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	args = append(args, id)
	for _, f := range t.From {
		args = append(args, f)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE sends SET `+strings.Join(sets, ", ")+
		` WHERE id = ? AND state IN (`+placeholders(len(t.From))+`)`, args...)
	return sendChanged(res, err, id)
}

func sendChanged(res sql.Result, err error, id int64) error {
	if err != nil {
		return fmt.Errorf("db: send %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("db: send %d: %w", id, ErrConflict)
	}
	return nil
}

// RecordSendProgress stores what the platform says of a submitted send.
func (s *Store) RecordSendProgress(ctx context.Context, id int64, status string, c SendCounts) error {
	_, err := s.write.ExecContext(ctx, `UPDATE sends SET platform_status = ?, total = ?, sent = ?, delivered = ?, failed = ?,
		opened = ?, clicked = ?, bounced = ?, checked_at = ?, updated_at = ? WHERE id = ?`,
		status, c.Total, c.Sent, c.Delivered, c.Failed, c.Opened, c.Clicked, c.Bounced, s.unixNow(), s.unixNow(), id)
	return err
}

// SetSendEvidence records what a look on the platform found, without a state change.
func (s *Store) SetSendEvidence(ctx context.Context, id int64, evidence string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE sends SET evidence = ?, updated_at = ? WHERE id = ?`, evidence, s.unixNow(), id)
	return err
}

// SendRecord is one recipient's outcome.
type SendRecord struct {
	Recipient, Status, Error string
	At                       int64
}

// SaveSendRecords stores a page of recipients (replacing what was known of them).
func (s *Store) SaveSendRecords(ctx context.Context, id int64, recs []SendRecord) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO send_records(send_id, recipient, status, error, at) VALUES(?,?,?,?,?)
			ON CONFLICT(send_id, recipient) DO UPDATE SET status = excluded.status, error = excluded.error, at = excluded.at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range recs {
			if _, err := stmt.ExecContext(ctx, id, r.Recipient, r.Status, r.Error, r.At); err != nil {
				return err
			}
		}
		return nil
	})
}

// SendRecordFilter narrows SendRecords.
type SendRecordFilter struct {
	Query  string // part of the recipient
	Status string
	Limit  int // default 50
	Offset int
}

// SendRecords returns a page of a send's recipients and how many match.
func (s *Store) SendRecords(ctx context.Context, id int64, f SendRecordFilter) ([]SendRecord, int, error) {
	where, args := "send_id = ?", []any{id}
	if q := strings.TrimSpace(f.Query); q != "" {
		where, args = where+` AND recipient LIKE ? ESCAPE '\'`, append(args, "%"+escapeLike(q)+"%")
	}
	if f.Status != "" {
		where, args = where+" AND status = ?", append(args, f.Status)
	}
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM send_records WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := s.read.QueryContext(ctx, `SELECT recipient, status, error, at FROM send_records WHERE `+where+
		` ORDER BY recipient LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []SendRecord
	for rows.Next() {
		var r SendRecord
		if err := rows.Scan(&r.Recipient, &r.Status, &r.Error, &r.At); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// SendFailureReasons counts a send's failed recipients per reason, most first.
func (s *Store) SendFailureReasons(ctx context.Context, id int64) ([]ReasonCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT error, COUNT(*) FROM send_records WHERE send_id = ? AND status IN ('failed','bounced')
		GROUP BY error ORDER BY COUNT(*) DESC, error`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReasonCount
	for rows.Next() {
		var r ReasonCount
		if err := rows.Scan(&r.Reason, &r.Count); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReasonCount is how many items failed for one reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// SetSendExcluded records the mobiles the consent check left out of a draft.
func (s *Store) SetSendExcluded(ctx context.Context, id int64, excluded []string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE sends SET excluded = ?, updated_at = ? WHERE id = ? AND state = 'draft'`,
		jsonList(excluded), s.unixNow(), id)
	return sendChanged(res, err, id)
}

// UpdateScheduledSend records a change the platform accepted to a
// scheduled email.
func (s *Store) UpdateScheduledSend(ctx context.Context, id int64, subject, mailboxID, sender, html string, sendTime int64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE sends SET subject = ?, mailbox_id = ?, sender = ?, content = ?, send_time = ?, updated_at = ?
		WHERE id = ? AND state = 'submitted'`, subject, mailboxID, sender, html, sendTime, s.unixNow(), id)
	return sendChanged(res, err, id)
}

// LatestSMSTask is the platform's task id of the newest SMS send made on
// connection, or "" when none reached the platform: a check of the
// platform reads that task back (the platform lists no SMS tasks).
func (s *Store) LatestSMSTask(ctx context.Context, connection string) (string, error) {
	var id string
	err := s.read.QueryRowContext(ctx, `SELECT platform_id FROM sends
		WHERE channel = 'sms' AND connection = ? AND platform_id != '' ORDER BY id DESC LIMIT 1`, connection).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("db: latest SMS task: %w", err)
	}
	return id, nil
}

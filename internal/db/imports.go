package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Import stages: the wizard's steps before the job takes over.
const (
	ImportUploaded  = "uploaded"  // file stored; reading options and mapping being chosen
	ImportValidated = "validated" // every row checked and stored; target being chosen
	ImportStarted   = "started"   // handed to its job (JobID), or being handed
)

// Import row states (migration 0006 explains them).
const (
	RowInvalid       = "invalid"
	RowDuplicate     = "duplicate"
	RowPending       = "pending"
	RowUnknown       = "unknown"
	RowResolved      = "resolved"
	RowNotFound      = "not_found"
	RowAlreadyMember = "already_member"
	RowImported      = "imported"
	RowFailed        = "failed"
)

// Import is one import: its file, how it is read and mapped, its target and counts.
type Import struct {
	ID            int64
	UserID        int64
	UserName      string
	Connection    string
	Stage         string
	FileName      string
	FilePath      string
	FileSize      int64
	FileSHA256    string
	Format        string
	Encoding      string
	Delimiter     string
	Sheet         string
	HeaderRow     int // the header's row; the rows above it are title rows
	Header        []string
	Mapping       []string
	Preview       string // JSON: what detection found and the first rows (the crowds service's)
	IdentityType  string
	Counts        ImportCounts
	CrowdID       int64
	CrowdName     string
	CrowdNew      bool
	CreateMissing bool
	JobID         int64
	ValidateJobID int64  // a validation running (or run) as a job
	ValidateError string // JSON: why the last validation job failed ('' when it did not)
	Phases        string // JSON: the import job's phases (the crowds service's)
	CreatedAt     int64
	ValidatedAt   int64
	StartedAt     int64
	SeenAt        int64
	// RowsPrunedAt is when the row records were deleted past their
	// retention (their counts kept); 0 while they are there.
	RowsPrunedAt int64
	// From the job: its state ("" before it exists) and when it finished.
	JobState      string
	JobFinishedAt int64
}

// ImportCounts are validation's account of the file: its data rows (the
// rows under the header: Total = Empty + Invalid + Duplicate + Valid), the
// title rows above the header, and for a CSV file its physical lines and
// the rows whose cells run over several of them.
type ImportCounts struct {
	Total, Empty, Invalid, Duplicate, Valid int64
	Title                                   int64
	Lines                                   int64            // CSV: lines of text; 0 for a workbook
	Multiline                               int64            // rows spanning several lines
	MultilineRows                           []int64          // the first of them
	Reasons                                 map[string]int64 // the invalid rows by reason (nil before validation)
}

// NewImport is an uploaded file.
type NewImport struct {
	UserID     int64
	Connection string
	FileName   string
	FilePath   string
	FileSize   int64
	FileSHA256 string
}

// ImportRow is one data row of an import. Line is its row in the
// spreadsheet (header = its own row number).
type ImportRow struct {
	Line    int64
	Raw     string
	Value   string
	Name    string
	Extra   map[string]string // other mapped values, by role
	State   string
	Reason  string
	UUID    string
	Created bool
}

const importColumns = `i.id, i.user_id, COALESCE(NULLIF(u.display_name, ''), u.username, ''), i.connection, i.stage,
	i.file_name, i.file_path, i.file_size, i.file_sha256, i.format, i.encoding, i.delimiter, i.sheet, i.header_row, i.header, i.mapping,
	i.preview, i.identity_type, i.rows_total, i.rows_empty, i.rows_invalid, i.rows_duplicate, i.rows_valid,
	i.rows_title, i.lines_total, i.rows_multiline, i.multiline_rows, i.invalid_reasons,
	i.crowd_id, i.crowd_name, i.crowd_new, i.create_missing, COALESCE(i.job_id, 0), COALESCE(i.validate_job_id, 0),
	i.validate_error, i.phases, i.created_at, i.validated_at, i.started_at, i.seen_at, i.rows_pruned_at, COALESCE(j.state, ''), COALESCE(j.finished_at, 0)
	FROM imports i LEFT JOIN users u ON u.id = i.user_id LEFT JOIN jobs j ON j.id = i.job_id`

func scanImport(row interface{ Scan(...any) error }) (Import, error) {
	var im Import
	var header, mapping, multiline, reasons string
	c := &im.Counts
	err := row.Scan(&im.ID, &im.UserID, &im.UserName, &im.Connection, &im.Stage, &im.FileName, &im.FilePath, &im.FileSize,
		&im.FileSHA256, &im.Format, &im.Encoding, &im.Delimiter, &im.Sheet, &im.HeaderRow, &header, &mapping, &im.Preview,
		&im.IdentityType, &c.Total, &c.Empty, &c.Invalid, &c.Duplicate, &c.Valid, &c.Title, &c.Lines, &c.Multiline, &multiline, &reasons,
		&im.CrowdID, &im.CrowdName, &im.CrowdNew, &im.CreateMissing, &im.JobID, &im.ValidateJobID, &im.ValidateError, &im.Phases,
		&im.CreatedAt, &im.ValidatedAt, &im.StartedAt, &im.SeenAt, &im.RowsPrunedAt, &im.JobState, &im.JobFinishedAt)
	if err != nil {
		return Import{}, err
	}
	if err := json.Unmarshal([]byte(multiline), &c.MultilineRows); err != nil {
		return Import{}, fmt.Errorf("import %d multiline rows: %w", im.ID, err)
	}
	if reasons != "" {
		if err := json.Unmarshal([]byte(reasons), &c.Reasons); err != nil {
			return Import{}, fmt.Errorf("import %d invalid reasons: %w", im.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(header), &im.Header); err != nil {
		return Import{}, fmt.Errorf("import %d header: %w", im.ID, err)
	}
	if err := json.Unmarshal([]byte(mapping), &im.Mapping); err != nil {
		return Import{}, fmt.Errorf("import %d mapping: %w", im.ID, err)
	}
	return im, nil
}

// Finished reports whether the import's job has ended (in any final state).
func (im Import) Finished() bool { return im.JobFinishedAt > 0 }

// CreateImport records an uploaded file.
func (s *Store) CreateImport(ctx context.Context, n NewImport) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO imports(user_id, connection, stage, file_name, file_path, file_size, file_sha256, created_at)
		VALUES(?,?,'uploaded',?,?,?,?,?) RETURNING id`, n.UserID, n.Connection, n.FileName, n.FilePath, n.FileSize, n.FileSHA256,
		s.unixNow()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: create import: %w", err)
	}
	return id, nil
}

// Import loads one import.
func (s *Store) Import(ctx context.Context, id int64) (Import, error) {
	im, err := scanImport(s.read.QueryRowContext(ctx, `SELECT `+importColumns+` WHERE i.id = ?`, id))
	if err != nil {
		return Import{}, notFound(err, fmt.Sprintf("import %d", id))
	}
	return im, nil
}

// ImportFilter narrows ListImports. Zero values mean "any".
type ImportFilter struct {
	UserID  int64
	CrowdID int64
	SHA256  string
	Started bool // only imports handed to a job
	Limit   int  // default 50, at most 500
}

// ListImports returns imports newest first.
func (s *Store) ListImports(ctx context.Context, f ImportFilter) ([]Import, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if f.UserID != 0 {
		add(`i.user_id = ?`, f.UserID)
	}
	if f.CrowdID != 0 {
		add(`i.crowd_id = ?`, f.CrowdID)
	}
	if f.SHA256 != "" {
		add(`i.file_sha256 = ?`, f.SHA256)
	}
	if f.Started {
		add(`i.stage = ?`, ImportStarted)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT ` + importColumns
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return s.queryImports(ctx, "list imports", q+` ORDER BY i.id DESC LIMIT ?`, append(args, f.Limit)...)
}

// queryImports runs q (SELECT importColumns …) and scans its imports.
func (s *Store) queryImports(ctx context.Context, what, q string, args ...any) ([]Import, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Import
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// ImportReading is how an import's file is read and mapped, and the
// preview read that way.
type ImportReading struct {
	Format, Encoding, Delimiter, Sheet string
	HeaderRow                          int
	Header, Mapping                    []string
	Preview                            string // JSON, kept as is
}

// SetImportReading changes how the file is read and mapped. Any rows
// validated before are dropped and a validation under way is let go (its
// job finds itself replaced): the import goes back to "uploaded". A
// started import cannot change (ErrConflict).
func (s *Store) SetImportReading(ctx context.Context, id int64, r ImportReading) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.setImportReading(ctx, tx, id, r) })
}

func (s *Store) setImportReading(ctx context.Context, tx *sql.Tx, id int64, r ImportReading) error {
	header, _ := json.Marshal(nonNil(r.Header))
	mapping, _ := json.Marshal(nonNil(r.Mapping))
	res, err := tx.ExecContext(ctx, `UPDATE imports SET stage = 'uploaded', format = ?, encoding = ?, delimiter = ?, sheet = ?,
		header_row = ?, header = ?, mapping = ?, preview = ?, validated_at = 0, validate_job_id = NULL, validate_error = '',
		rows_total = 0, rows_empty = 0, rows_invalid = 0, rows_duplicate = 0, rows_valid = 0, rows_title = 0, lines_total = 0,
		rows_multiline = 0, multiline_rows = '[]', invalid_reasons = '' WHERE id = ? AND stage != 'started'`,
		r.Format, r.Encoding, r.Delimiter, r.Sheet, r.HeaderRow, string(header), string(mapping), r.Preview, id)
	if err := changedOne(res, err, id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM import_rows WHERE import_id = ?`, id)
	return err
}

// QueueImportValidation sets the mapping to validate with (dropping rows
// validated before) and queues the validation's job, in one transaction:
// the job never runs before the import names it.
func (s *Store) QueueImportValidation(ctx context.Context, id int64, r ImportReading, job NewJob) (Job, error) {
	var jobID int64
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		if err := s.setImportReading(ctx, tx, id, r); err != nil {
			return err
		}
		if jobID, err = s.insertJob(ctx, tx, job); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE imports SET validate_job_id = ? WHERE id = ?`, jobID, id)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	return s.Job(ctx, jobID)
}

// ClearImportRows drops the rows a validation job stored, so a resumed
// run starts again from the top; ErrConflict once the job is not the
// import's validation any more.
func (s *Store) ClearImportRows(ctx context.Context, id, jobID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := validationIs(ctx, tx, id, jobID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM import_rows WHERE import_id = ?`, id)
		return err
	})
}

// FailImportValidation records why a validation job could not read the
// file (a JSON error), if it is still the import's validation.
func (s *Store) FailImportValidation(ctx context.Context, id, jobID int64, reason string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE imports SET validate_error = ? WHERE id = ? AND stage = 'uploaded' AND validate_job_id = ?`,
		reason, id, jobID)
	return changedOne(res, err, id)
}

// validationIs checks, within tx, that the import is uploaded and (for a
// job, jobID != 0) that jobID is its validation.
func validationIs(ctx context.Context, tx *sql.Tx, id, jobID int64) error {
	var stage string
	var current int64
	err := tx.QueryRowContext(ctx, `SELECT stage, COALESCE(validate_job_id, 0) FROM imports WHERE id = ?`, id).Scan(&stage, &current)
	if err != nil {
		return notFound(err, fmt.Sprintf("import %d", id))
	}
	if stage != ImportUploaded || (jobID != 0 && current != jobID) {
		return fmt.Errorf("db: import %d is not validated by job %d: %w", id, jobID, ErrConflict)
	}
	return nil
}

// changedOne maps "no row changed" to ErrConflict (the row is not in a
// state that allows the change, or is gone).
func changedOne(res sql.Result, err error, id int64) error {
	if err != nil {
		return fmt.Errorf("db: import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("db: import %d: %w", id, ErrConflict)
	}
	return nil
}

// AddImportRows stores a chunk of validated rows (validation writes the
// file in chunks, so the single writer is never held for a whole file) and
// marks the chunk's repeated values as duplicates of their first row. Rows
// go in 100 to a statement: one statement per row spent most of the time
// in the statement's own overhead. jobID is the validation job writing
// (0 for a validation within a request); once that job is not the
// import's validation any more, nothing is written (ErrConflict).
func (s *Store) AddImportRows(ctx context.Context, id, jobID int64, rows []ImportRow) error {
	if len(rows) == 0 {
		return nil
	}
	const perStatement = 100
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := validationIs(ctx, tx, id, jobID); err != nil {
			return err
		}
		insert := func(n int) string {
			return `INSERT INTO import_rows(import_id, line, raw, value, name, extra, state, reason) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?),", n), ",")
		}
		// The full-size statement is parsed once (parsing it for every
		// chunk was a fifth of the time).
		full, err := tx.PrepareContext(ctx, insert(perStatement))
		if err != nil {
			return err
		}
		defer full.Close()
		args := make([]any, 0, perStatement*8)
		for chunk := range slices.Chunk(rows, perStatement) {
			args = args[:0]
			for _, r := range chunk {
				args = append(args, id, r.Line, r.Raw, r.Value, r.Name, extraJSON(r.Extra), r.State, r.Reason)
			}
			if len(chunk) == perStatement {
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, insert(len(chunk)), args...)
			}
			if err != nil {
				return fmt.Errorf("db: import %d rows from row %d: %w", id, chunk[0].Line, err)
			}
		}
		// A pending row whose value appeared on an earlier row is a
		// duplicate; reason keeps the first row's number.
		_, err = tx.ExecContext(ctx, `UPDATE import_rows AS r SET state = 'duplicate',
			reason = (SELECT MIN(f.line) FROM import_rows f WHERE f.import_id = r.import_id AND f.value = r.value)
			WHERE r.import_id = ? AND r.line BETWEEN ? AND ? AND r.state = 'pending' AND EXISTS (SELECT 1 FROM import_rows f
				WHERE f.import_id = r.import_id AND f.value = r.value AND f.line < r.line)`, id, rows[0].Line, rows[len(rows)-1].Line)
		return err
	})
}

func extraJSON(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Validation is what a finished validation found.
type Validation struct {
	JobID        int64 // the validation job, 0 within a request
	IdentityType string
	Mapping      []string
	Counts       ImportCounts // Total, Empty, Title, Lines, Multiline(Rows); the rest is counted here
}

// FinishValidation counts the stored rows and moves the import to
// "validated" with the mapping used (if v.JobID is still its validation).
func (s *Store) FinishValidation(ctx context.Context, id int64, v Validation) (ImportCounts, error) {
	m, _ := json.Marshal(nonNil(v.Mapping))
	multiline, _ := json.Marshal(nonNil(v.Counts.MultilineRows))
	c := v.Counts
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := validationIs(ctx, tx, id, v.JobID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE state = 'invalid'), COUNT(*) FILTER (WHERE state = 'duplicate'),
			COUNT(*) FILTER (WHERE state = 'pending') FROM import_rows WHERE import_id = ?`, id).Scan(&c.Invalid, &c.Duplicate, &c.Valid)
		if err != nil {
			return err
		}
		if c.Reasons, err = countRows(ctx, tx, fmt.Sprintf("import %d reasons", id), `SELECT reason, COUNT(*) FROM import_rows
			WHERE import_id = ? AND state = 'invalid' GROUP BY reason`, id); err != nil {
			return err
		}
		reasons, _ := json.Marshal(c.Reasons)
		res, err := tx.ExecContext(ctx, `UPDATE imports SET stage = 'validated', identity_type = ?, mapping = ?,
			rows_total = ?, rows_empty = ?, rows_invalid = ?, rows_duplicate = ?, rows_valid = ?, rows_title = ?, lines_total = ?,
			rows_multiline = ?, multiline_rows = ?, invalid_reasons = ?, validated_at = ? WHERE id = ? AND stage = 'uploaded'`,
			v.IdentityType, string(m), c.Total, c.Empty, c.Invalid, c.Duplicate, c.Valid, c.Title, c.Lines, c.Multiline,
			string(multiline), string(reasons), s.unixNow(), id)
		return changedOne(res, err, id)
	})
	return c, err
}

// ImportLastRow is the last row a validation has stored so far (0: none).
func (s *Store) ImportLastRow(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(line), 0) FROM import_rows WHERE import_id = ?`, id).Scan(&n)
	return n, err
}

// ClaimImportStart moves a validated import to "started", once: of two
// racing requests (a double click, two tabs) only one gets nil, the other
// ErrConflict.
func (s *Store) ClaimImportStart(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE imports SET stage = 'started', started_at = ? WHERE id = ? AND stage = 'validated'`,
		s.unixNow(), id)
	return changedOne(res, err, id)
}

// ReopenImport undoes a claim whose start failed before a job existed (the
// crowd could not be created), so the user can choose again.
func (s *Store) ReopenImport(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE imports SET stage = 'validated', started_at = 0, crowd_id = 0, crowd_name = '',
		crowd_new = 0, create_missing = 0 WHERE id = ? AND stage = 'started' AND job_id IS NULL`, id)
	return changedOne(res, err, id)
}

// ImportTarget is where a started import goes.
type ImportTarget struct {
	CrowdID       int64
	CrowdName     string
	CrowdNew      bool
	CreateMissing bool
}

// QueueImportRun records a claimed import's target and queues its job, in
// one transaction: the job never runs before the import names its crowd.
func (s *Store) QueueImportRun(ctx context.Context, id int64, t ImportTarget, job NewJob) (Job, error) {
	var jobID int64
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		if jobID, err = s.insertJob(ctx, tx, job); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE imports SET crowd_id = ?, crowd_name = ?, crowd_new = ?, create_missing = ?, job_id = ?
			WHERE id = ? AND stage = 'started' AND job_id IS NULL`, t.CrowdID, t.CrowdName, t.CrowdNew, t.CreateMissing, jobID, id)
		return changedOne(res, err, id)
	})
	if err != nil {
		return Job{}, err
	}
	return s.Job(ctx, jobID)
}

// SetImportPhases records the import job's phases (JSON).
func (s *Store) SetImportPhases(ctx context.Context, id int64, phases string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE imports SET phases = ? WHERE id = ?`, phases, id)
	return err
}

// ImportPhaseCounts counts an import's rows by state, split as the job's
// phases need: "<state>", with "+created" when the import created the
// person and "+refused" when the crowd refused it. The groups follow the
// import_rows_phase index, so the count reads the index alone, in order.
func (s *Store) ImportPhaseCounts(ctx context.Context, id int64) (map[string]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT state, created, reason, COUNT(*) FROM import_rows INDEXED BY import_rows_phase
		WHERE import_id = ? GROUP BY state, created, reason
		UNION ALL SELECT state, created, reason, n FROM import_row_tallies WHERE import_id = ?`, id, id)
	if err != nil {
		return nil, fmt.Errorf("db: import %d phase counts: %w", id, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state, reason string
		var created bool
		var n int64
		if err := rows.Scan(&state, &created, &reason, &n); err != nil {
			return nil, err
		}
		key := state
		if created {
			key += "+created"
		}
		if reason == "refused_by_crowd" {
			key += "+refused"
		}
		out[key] += n
	}
	return out, rows.Err()
}

// DeleteImport removes an import that was never started, with its rows.
func (s *Store) DeleteImport(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM imports WHERE id = ? AND stage != 'started'`, id)
	return changedOne(res, err, id)
}

// ImportRowsIn returns up to limit rows of an import in state, by line.
func (s *Store) ImportRowsIn(ctx context.Context, id int64, state string, limit int) ([]ImportRow, error) {
	return s.importRows(ctx, `SELECT line, raw, value, name, extra, state, reason, uuid, created FROM import_rows
		WHERE import_id = ? AND state = ? ORDER BY line LIMIT ?`, id, state, limit)
}

// ImportRowsPage returns up to limit rows in one of states after line afterLine.
func (s *Store) ImportRowsPage(ctx context.Context, id int64, states []string, afterLine int64, limit int) ([]ImportRow, error) {
	args := []any{id, afterLine}
	for _, st := range states {
		args = append(args, st)
	}
	return s.importRows(ctx, `SELECT line, raw, value, name, extra, state, reason, uuid, created FROM import_rows
		WHERE import_id = ? AND line > ? AND state IN (`+placeholders(len(states))+`) ORDER BY line LIMIT ?`,
		append(args, limit)...)
}

func (s *Store) importRows(ctx context.Context, q string, args ...any) ([]ImportRow, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: import rows: %w", err)
	}
	defer rows.Close()
	var out []ImportRow
	for rows.Next() {
		var r ImportRow
		var extra string
		if err := rows.Scan(&r.Line, &r.Raw, &r.Value, &r.Name, &extra, &r.State, &r.Reason, &r.UUID, &r.Created); err != nil {
			return nil, err
		}
		if extra != "" {
			if err := json.Unmarshal([]byte(extra), &r.Extra); err != nil {
				return nil, fmt.Errorf("db: import row %d extra: %w", r.Line, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetImportRows writes the outcome of a batch: each row's new state,
// reason, uuid and created flag, in one transaction.
func (s *Store) SetImportRows(ctx context.Context, id int64, rows []ImportRow) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE import_rows SET state = ?, reason = ?, uuid = ?, created = ?
			WHERE import_id = ? AND line = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r.State, r.Reason, r.UUID, r.Created, id, r.Line); err != nil {
				return fmt.Errorf("db: import %d line %d: %w", id, r.Line, err)
			}
		}
		return nil
	})
}

// MarkAlreadyMembers moves resolved rows whose uuid is among uuids to
// already_member, and says how many moved.
func (s *Store) MarkAlreadyMembers(ctx context.Context, id int64, uuids []string) (int64, error) {
	var moved int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE import_rows SET state = 'already_member'
			WHERE import_id = ? AND state = 'resolved' AND uuid = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, u := range uuids {
			res, err := stmt.ExecContext(ctx, id, u)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			moved += n
		}
		return nil
	})
	return moved, err
}

// ImportStateCounts counts an import's rows per state.
func (s *Store) ImportStateCounts(ctx context.Context, id int64) (map[string]int64, error) {
	return s.queryCounts(ctx, fmt.Sprintf("import %d counts", id), `SELECT state, SUM(n) FROM (
		SELECT state, COUNT(*) AS n FROM import_rows WHERE import_id = ? GROUP BY state
		UNION ALL SELECT state, n FROM import_row_tallies WHERE import_id = ?) GROUP BY state`, id, id)
}

// ImportReasonCounts counts an import's rows in state per reason (the
// validation step's "invalid by reason").
func (s *Store) ImportReasonCounts(ctx context.Context, id int64, state string) (map[string]int64, error) {
	return s.queryCounts(ctx, fmt.Sprintf("import %d reasons", id), `SELECT reason, SUM(n) FROM (
		SELECT reason, COUNT(*) AS n FROM import_rows WHERE import_id = ? AND state = ? GROUP BY reason
		UNION ALL SELECT reason, n FROM import_row_tallies WHERE import_id = ? AND state = ?) GROUP BY reason`, id, state, id, state)
}

// ImportedIdentities maps uuids to the identity values imports resolved
// them from (the most recent import wins), for naming crowd members.
func (s *Store) ImportedIdentities(ctx context.Context, uuids []string) (map[string]ImportRow, error) {
	out := map[string]ImportRow{}
	if len(uuids) == 0 {
		return out, nil
	}
	args := make([]any, len(uuids))
	for i, u := range uuids {
		args[i] = u
	}
	rows, err := s.read.QueryContext(ctx, `SELECT r.uuid, r.value, r.name, i.identity_type FROM import_rows r
		JOIN imports i ON i.id = r.import_id WHERE r.uuid IN (`+placeholders(len(uuids))+`) ORDER BY r.import_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: imported identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uuid, value, name, kind string
		if err := rows.Scan(&uuid, &value, &name, &kind); err != nil {
			return nil, err
		}
		out[uuid] = ImportRow{UUID: uuid, Value: value, Name: name, Reason: kind}
	}
	return out, rows.Err()
}

// MarkImportSeen records that the owner saw the finished import.
func (s *Store) MarkImportSeen(ctx context.Context, id int64) error {
	_, err := s.write.ExecContext(ctx, `UPDATE imports SET seen_at = ? WHERE id = ? AND seen_at = 0`, s.unixNow(), id)
	return err
}

// ImportsBadge counts the user's imports that ended since they last
// looked, and those still running: the navigation's badge, read on every
// page, in one query.
func (s *Store) ImportsBadge(ctx context.Context, userID int64) (unseenFinished, running int, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE i.seen_at = 0 AND j.finished_at IS NOT NULL),
		COUNT(*) FILTER (WHERE j.finished_at IS NULL)
		FROM imports i JOIN jobs j ON j.id = i.job_id WHERE i.user_id = ?`, userID).Scan(&unseenFinished, &running)
	return unseenFinished, running, err
}

// ImportBatch is one crowd import call and the platform's counts.
type ImportBatch struct {
	At                    int64
	Size, Success, Errors int64
}

// AddImportBatch records a crowd import call's answer.
func (s *Store) AddImportBatch(ctx context.Context, id int64, b ImportBatch) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO import_batches(import_id, at, size, success, errors) VALUES(?,?,?,?,?)`,
		id, s.unixNow(), b.Size, b.Success, b.Errors)
	return err
}

// RecentImportBatches returns an import's last limit batches, newest first.
func (s *Store) RecentImportBatches(ctx context.Context, id int64, limit int) ([]ImportBatch, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, size, success, errors FROM import_batches
		WHERE import_id = ? ORDER BY id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("db: import %d batches: %w", id, err)
	}
	defer rows.Close()
	var out []ImportBatch
	for rows.Next() {
		var b ImportBatch
		if err := rows.Scan(&b.At, &b.Size, &b.Success, &b.Errors); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

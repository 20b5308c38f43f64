package crowds

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// Validation reads the whole file with the mapping chosen and stores every
// data row's verdict, before anything is sent to the platform. Every row
// of the file is accounted for: the rows above the header are title rows,
// the header is one row, and each row under it is empty, invalid (with a
// reason, broken quoting included), a duplicate of an earlier row, or
// valid. A large file is validated by a job with its own progress, so the
// request that asks for it returns at once.

// DefaultValidateInRequest is the largest file validated within the
// request that asks for it (a workbook counts eight times its size, the
// rough ratio of its XML to its zip); larger ones are validated by a job.
const DefaultValidateInRequest int64 = 1 << 20

// validateChunk is how many rows validation writes per transaction.
const validateChunk = 2000

// multilineKept is how many of the rows whose cells span several lines
// the summary names.
const multilineKept = 10

type validateParams struct {
	ImportID int64  `json:"import_id"`
	Identity string `json:"identity"`
}

// ValidateResult is a validation done (Counts) or under way (JobID), and
// the identity it matches on.
type ValidateResult struct {
	Counts   db.ImportCounts
	JobID    int64
	Identity string
}

// Validate checks the whole file with mapping (a role per column; nil
// keeps the import's), matching on identityType when it is a role of
// importfile.MatchRoles mapped to a column, else on the first such role
// mapped. Each role names one column (ErrRoleTwice). A small file is
// validated at once; a large one by a job (JobID).
func (s *Service) Validate(ctx context.Context, id, userID int64, mapping []string, identityType string) (ValidateResult, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return ValidateResult{}, err
	}
	if im.Stage == db.ImportStarted {
		return ValidateResult{}, ErrStarted // a second click: the first one started it
	}
	if mapping == nil {
		mapping = im.Mapping
	}
	mapping = knownRoles(mapping)
	if err := oneColumnEach(mapping); err != nil {
		return ValidateResult{}, err
	}
	identityType = matchOn(mapping, identityType)
	res, err := s.validate(ctx, im, userID, mapping, identityType, s.validateInBackground(im))
	res.Identity = identityType
	return res, err
}

// oneColumnEach refuses a mapping with a role on two columns.
func oneColumnEach(mapping []string) error {
	seen := map[string]bool{}
	for _, role := range mapping {
		if role != "" && seen[role] {
			return msg.Refuse(msg.Invalid, "imports.error.role_twice", msg.Nested("Role", msg.New("imports.role."+role))).Because(ErrRoleTwice)
		}
		seen[role] = true
	}
	return nil
}

// matchOn is the identity an import matches on: the one chosen when it
// can identify a person and a column holds it, else the first that can
// and does ("" when none: nothing to match on).
func matchOn(mapping []string, chosen string) string {
	if slices.Contains(importfile.MatchRoles, chosen) && slices.Contains(mapping, chosen) {
		return chosen
	}
	for _, role := range importfile.MatchRoles {
		if slices.Contains(mapping, role) {
			return role
		}
	}
	return ""
}

func (s *Service) validate(ctx context.Context, im db.Import, userID int64, mapping []string, identityType string, background bool) (ValidateResult, error) {
	id := im.ID
	if im.Stage == db.ImportStarted {
		return ValidateResult{}, ErrStarted
	}
	if !slices.Contains(mapping, identityType) || !slices.Contains(importfile.MatchRoles, identityType) {
		return ValidateResult{}, ErrNoIdentity
	}
	reading := db.ImportReading{Format: im.Format, Encoding: im.Encoding, Delimiter: im.Delimiter, Sheet: im.Sheet,
		HeaderRow: im.HeaderRow, Header: im.Header, Mapping: mapping, Preview: im.Preview}
	s.cancelValidation(ctx, im)
	if background {
		job, err := s.cfg.Runner.EnqueueWith(ctx, jobs.Spec{Kind: ValidateJobKind, OwnerID: userID,
			Title: fmt.Sprintf("Validate %s", im.FileName), Params: validateParams{ImportID: id, Identity: identityType}},
			func(ctx context.Context, nj db.NewJob) (db.Job, error) {
				return s.cfg.Store.QueueImportValidation(ctx, id, reading, nj)
			})
		return ValidateResult{JobID: job.ID}, err
	}
	// Start from no rows: a second validation replaces the first.
	if err := s.cfg.Store.SetImportReading(ctx, id, reading); err != nil {
		return ValidateResult{}, err
	}
	im.Mapping = mapping
	counts, err := s.storeRows(ctx, im, 0, identityType, nil)
	if err != nil {
		return ValidateResult{}, err
	}
	counts, err = s.cfg.Store.FinishValidation(ctx, id, db.Validation{IdentityType: identityType, Mapping: mapping, Counts: counts})
	return ValidateResult{Counts: counts}, err
}

func (s *Service) validateInBackground(im db.Import) bool {
	size := im.FileSize
	if im.Format == string(importfile.FormatXLSX) {
		size *= 8
	}
	return size > s.cfg.ValidateInRequest
}

// cancelValidation cancels an import's validation job if one runs (the
// import is about to be read another way, validated again or discarded).
func (s *Service) cancelValidation(ctx context.Context, im db.Import) {
	if im.ValidateJobID == 0 {
		return
	}
	if err := s.cfg.Runner.Cancel(ctx, im.ValidateJobID); err != nil && !errors.Is(err, db.ErrJobState) {
		s.log.Warn("cancel a validation", "import", im.ID, "job", im.ValidateJobID, "error", err)
	}
}

// CancelValidation stops an import's validation under way; stopped is
// false when none was (it ended before the click arrived).
func (s *Service) CancelValidation(ctx context.Context, id int64) (stopped bool, err error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil || im.ValidateJobID == 0 {
		return false, err
	}
	if j, err := s.cfg.Store.Job(ctx, im.ValidateJobID); err != nil || !j.Active() {
		return false, err
	}
	err = s.cfg.Runner.Cancel(ctx, im.ValidateJobID)
	if errors.Is(err, db.ErrJobState) {
		return false, nil
	}
	return err == nil, err
}

// Validation is an import's last validation job as its page shows it: the
// job (zero when the file was validated within the request, or never),
// while it runs the last row read so far, and when it ended without
// validating, why.
type Validation struct {
	Job   db.Job
	Row   int64
	Ended msg.Message
}

// Validation reads im's last validation job.
func (s *Service) Validation(ctx context.Context, im db.Import) (Validation, error) {
	if im.ValidateJobID == 0 {
		return Validation{}, nil
	}
	j, err := s.cfg.Store.Job(ctx, im.ValidateJobID)
	if err != nil {
		return Validation{}, err
	}
	v := Validation{Job: j}
	switch fe := ValidationError(im); {
	case j.Active():
		v.Row, err = s.cfg.Store.ImportLastRow(ctx, im.ID)
	case fe != nil:
		v.Ended = msg.New("imports.validation_failed", msg.Nested("Error", fe.Message()))
	case j.State == db.JobCancelled:
		v.Ended = msg.New("imports.validation_stopped")
	case j.State == db.JobFailed:
		v.Ended = msg.New("imports.validation_failed", msg.Nested("Error", msg.New("imports.error."+importfile.CodeUnreadable)))
	}
	return v, err
}

// ReasonCount is how many rows validation refused for one reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// RejectReasons are the reasons validation refused im's rows for, the
// most frequent first.
func (s *Service) RejectReasons(ctx context.Context, im db.Import) ([]ReasonCount, error) {
	reasons := im.Counts.Reasons // counted when validation ended
	if reasons == nil {          // an import validated before they were kept
		var err error
		if reasons, err = s.cfg.Store.ImportReasonCounts(ctx, im.ID, db.RowInvalid); err != nil {
			return nil, err
		}
	}
	out := make([]ReasonCount, 0, len(reasons))
	for r, n := range reasons {
		out = append(out, ReasonCount{Reason: r, Count: n})
	}
	slices.SortFunc(out, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Reason, b.Reason))
	})
	return out, nil
}

// runValidate is the validation job: it reads the file from the top (a
// resumed run starts again; validation is the same each time), saving its
// progress in bytes read after each chunk of rows.
func (s *Service) runValidate(ctx context.Context, t *jobs.Task) error {
	var p validateParams
	if err := t.Params(&p); err != nil {
		return err
	}
	im, err := s.cfg.Store.Import(ctx, p.ImportID)
	if err != nil {
		return err
	}
	if im.ValidateJobID != t.ID() || im.Stage != db.ImportUploaded {
		return nil // replaced by another reading or validation: nothing to do
	}
	if err := s.cfg.Store.ClearImportRows(ctx, im.ID, t.ID()); err != nil {
		return ignoreReplaced(err)
	}
	counts, err := s.storeRows(ctx, im, t.ID(), p.Identity, func(done, total int64) error {
		t.SetTotal(total)
		t.SetCounts(done, 0)
		return t.Save("")
	})
	var fe *importfile.Error
	if errors.As(err, &fe) {
		reason, _ := json.Marshal(fe)
		if ferr := s.cfg.Store.FailImportValidation(context.WithoutCancel(ctx), im.ID, t.ID(), string(reason)); ferr != nil {
			return ignoreReplaced(ferr)
		}
		return err
	}
	if err != nil {
		return ignoreReplaced(err)
	}
	_, err = s.cfg.Store.FinishValidation(ctx, im.ID, db.Validation{JobID: t.ID(), IdentityType: p.Identity, Mapping: im.Mapping, Counts: counts})
	return ignoreReplaced(err)
}

// ignoreReplaced: a validation whose import was read another way, or
// validated again, meanwhile ends quietly.
func ignoreReplaced(err error) error {
	if errors.Is(err, db.ErrConflict) || errors.Is(err, db.ErrNotFound) {
		return nil
	}
	return err
}

// ValidationError is why an import's last validation job could not read
// the file (nil when it did not fail that way).
func ValidationError(im db.Import) *importfile.Error {
	if im.ValidateError == "" {
		return nil
	}
	var fe importfile.Error
	if json.Unmarshal([]byte(im.ValidateError), &fe) != nil {
		return &importfile.Error{Code: importfile.CodeUnreadable}
	}
	return &fe
}

// rowReader reads an import's file for validation with its mapping.
type rowReader struct {
	header   int
	identity string
	cols     map[string]int // role → column
}

func newRowReader(im db.Import, identityType string) rowReader {
	rr := rowReader{header: max(im.HeaderRow, 1), identity: identityType, cols: map[string]int{}}
	for i, role := range im.Mapping {
		if role != "" {
			rr.cols[role] = i
		}
	}
	return rr
}

// storeRows streams the file's data rows into import_rows with their
// verdict, in chunks, and accounts for every row. progress, when set, is
// called after each chunk with the bytes read so far and in all.
func (s *Service) storeRows(ctx context.Context, im db.Import, jobID int64, identityType string,
	progress func(done, total int64) error) (db.ImportCounts, error) {
	r, err := importfile.Open(s.filePath(im), readingOptions(im))
	if err != nil {
		return db.ImportCounts{}, err
	}
	defer r.Close()
	rr := newRowReader(im, identityType)
	var c db.ImportCounts
	var stored int64
	last := 0
	chunk := make([]db.ImportRow, 0, validateChunk)
	flush := func() error {
		err := s.cfg.Store.AddImportRows(ctx, im.ID, jobID, chunk)
		stored += int64(len(chunk))
		chunk = chunk[:0]
		if err == nil && progress != nil {
			err = progress(r.Progress())
		}
		return err
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return db.ImportCounts{}, err
		}
		last = rec.Row
		if rec.Lines > 1 && rec.Row > rr.header {
			if c.Multiline < multilineKept {
				c.MultilineRows = append(c.MultilineRows, int64(rec.Row))
			}
			c.Multiline++
		}
		if rec.Row <= rr.header || (rec.Problem == "" && importfile.EmptyRecord(rec.Fields)) {
			continue
		}
		chunk = append(chunk, rr.verdict(rec))
		if len(chunk) == validateChunk {
			if err := flush(); err != nil {
				return db.ImportCounts{}, err
			}
		}
	}
	if last < rr.header {
		return db.ImportCounts{}, &importfile.Error{Code: importfile.CodeHeaderRow, Line: rr.header}
	}
	if err := flush(); err != nil {
		return db.ImportCounts{}, err
	}
	c.Title = int64(rr.header - 1)
	c.Total = int64(last - rr.header)
	c.Empty = c.Total - stored
	c.Lines = int64(r.Lines())
	return c, nil
}

// verdict is a row as validation judges it: pending with its normalised
// value, or invalid with the reason (a row that could not be split into
// cells keeps the start of its line as the value in the file).
func (rr rowReader) verdict(rec importfile.Record) db.ImportRow {
	row := db.ImportRow{Line: int64(rec.Row), Raw: rr.field(rec, rr.identity), Name: rr.field(rec, importfile.ColName)}
	if rec.Problem != "" {
		if rec.Problem != importfile.ProblemTooWide || row.Raw == "" {
			row.Raw = rec.Text
		}
		row.State, row.Reason = db.RowInvalid, rec.Problem
		return row
	}
	row.Value, row.Reason = importfile.Normalize(rr.identity, row.Raw)
	row.State = db.RowPending
	if row.Reason != "" {
		row.State, row.Value = db.RowInvalid, ""
		return row
	}
	row.Extra = rr.extra(rec)
	return row
}

// extra is a valid row's other mapped values: its other identities when
// they are valid, and its fields.
func (rr rowReader) extra(rec importfile.Record) map[string]string {
	var out map[string]string
	set := func(role, v string) {
		if out == nil {
			out = map[string]string{}
		}
		out[role] = v
	}
	for _, role := range importfile.IdentityRoles {
		if role == rr.identity {
			continue
		}
		if v, reason := importfile.Normalize(role, rr.field(rec, role)); reason == "" {
			set(role, v)
		}
	}
	for _, role := range importfile.FieldRoles {
		if v := rr.field(rec, role); v != "" && role != importfile.ColName {
			set(role, clipRunes(v, fieldMax))
		}
	}
	return out
}

// fieldMax bounds a field value written to a person.
const fieldMax = 200

func (rr rowReader) field(rec importfile.Record, role string) string {
	i, ok := rr.cols[role]
	if !ok || i >= len(rec.Fields) {
		return ""
	}
	return rec.Fields[i]
}

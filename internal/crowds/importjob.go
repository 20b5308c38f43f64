package crowds

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/upkeep"
)

// An import job moves each valid row through the platform in phases,
// recording every row's state in SQLite after each batch:
//
//	resolve   pending  → resolved (uuid) | unknown        users.identity_batch, 100 a call
//	create    unknown  → resolved (created) | failed      users.create, 100 a call (if asked)
//	          unknown  → not_found                        (if not asked)
//	members   resolved → already_member                   crowds.users (crowds that existed before)
//	import    resolved → imported | failed | not_found    crowds.import, 1,000 a call
//
// The rows' states are the checkpoint: a job killed anywhere resumes with
// the rows still in a phase's source state, so a batch whose answer was
// lost is sent again. Every call here is safe to repeat (lookups; person
// creation merges into known identities; crowd import is idempotent).

// Target is where an import goes.
type Target struct {
	CrowdID       int64  // an existing crowd; 0 to create NewCrowd
	NewCrowd      string // name of the crowd to create
	Description   string
	CreateMissing bool // create persons the platform does not know
	// Again confirms importing a file imported before (same hash).
	Again bool
}

// Choice is an import's target as the target step's form gives it (and
// shows again after a refused start).
type Choice struct {
	Crowd         string // a crowd's id; "new" or "" for a crowd to create
	NewName       string
	Description   string
	CreateMissing bool
	Again         bool
}

// ErrBadChoice: the crowd chosen is neither a crowd's id nor "new" (no
// form of the console sends that).
var ErrBadChoice = errors.New("crowds: the crowd chosen is not a crowd")

// Target is where the choice sends the import: a crowd chosen leaves the
// new crowd's name and description aside.
func (c Choice) Target() (Target, error) {
	t := Target{NewCrowd: c.NewName, Description: c.Description, CreateMissing: c.CreateMissing, Again: c.Again}
	if c.Crowd == "" || c.Crowd == "new" {
		return t, nil
	}
	id, err := strconv.ParseInt(c.Crowd, 10, 64)
	if err != nil || id <= 0 {
		return t, ErrBadChoice
	}
	t.CrowdID, t.NewCrowd, t.Description = id, "", ""
	return t, nil
}

// Refusals of Start: the user can act on each (the field it is about is
// the target form's).
var (
	ErrNotValidated = msg.Refuse(msg.Conflict, "imports.error.not_validated")
	ErrNoValidRows  = msg.Refuse(msg.Invalid, "imports.error.no_valid_rows")
	ErrNoTarget     = msg.Refuse(msg.Invalid, "imports.error.no_target").On("crowd")
	ErrImportedOnce = msg.Refuse(msg.Conflict, "imports.error.imported_once").On("again")
	ErrNoCreate     = msg.Refuse(msg.Invalid, "imports.error.no_create").On("create_missing")
	ErrNameTooLong  = msg.Refuse(msg.Invalid, "imports.error.name_long", msg.Int("Max", CrowdNameMax)).On("new_name")
	ErrDescTooLong  = msg.Refuse(msg.Invalid, "imports.error.description_long", msg.Int("Max", CrowdDescriptionMax)).On("new_description")
	ErrTargetGone   = msg.Refuse(msg.NotFound, "imports.error.crowd_gone").On("crowd")
)

// The platform's limits on a crowd's name and description (characters).
const (
	CrowdNameMax        = 50
	CrowdDescriptionMax = 200
)

// CreatesPersons reports whether an import matching on identityType may
// create the persons the platform does not know (users.create takes
// mobiles and emails).
func CreatesPersons(identityType string) bool {
	return identityType == importfile.ColMobile || identityType == importfile.ColEmail
}

// importParams are everything an import job needs besides the import's
// rows: the job never depends on the import's target being recorded
// before it runs.
type importParams struct {
	ImportID      int64  `json:"import_id"`
	Connection    string `json:"connection"`
	Actor         string `json:"actor"`
	CrowdID       int64  `json:"crowd_id"`
	CrowdName     string `json:"crowd_name"`
	CrowdNew      bool   `json:"crowd_new"`
	CreateMissing bool   `json:"create_missing"`
}

// Start hands a validated import to a job: it creates the target crowd if
// asked (on the platform, on behalf of actor) and queues the job. Of two
// racing starts only one proceeds; the other gets ErrNotValidated.
func (s *Service) Start(ctx context.Context, id, userID int64, actor string, t Target) (int64, error) {
	im, err := s.checkStart(ctx, id, t)
	if err != nil {
		return 0, err
	}
	if err := s.cfg.Store.ClaimImportStart(ctx, id); err != nil {
		return 0, ErrNotValidated
	}
	jobID, err := s.launch(ctx, im, userID, actor, t)
	if err != nil {
		if rerr := s.cfg.Store.ReopenImport(context.WithoutCancel(ctx), id); rerr != nil {
			s.log.Error("reopen an import whose start failed", "import", id, "error", rerr)
		}
		return 0, err
	}
	return jobID, nil
}

func (s *Service) checkStart(ctx context.Context, id int64, t Target) (db.Import, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	switch {
	case err != nil:
		return im, err
	case im.Stage != db.ImportValidated:
		return im, ErrNotValidated
	case im.Counts.Valid == 0:
		return im, ErrNoValidRows
	case t.CrowdID == 0 && strings.TrimSpace(t.NewCrowd) == "":
		return im, ErrNoTarget
	case t.CrowdID == 0 && tooLong(strings.TrimSpace(t.NewCrowd), CrowdNameMax):
		return im, ErrNameTooLong
	case t.CrowdID == 0 && tooLong(t.Description, CrowdDescriptionMax):
		return im, ErrDescTooLong
	case t.CreateMissing && !CreatesPersons(im.IdentityType):
		return im, ErrNoCreate
	}
	if !t.Again {
		prev, err := s.PreviousImports(ctx, im)
		if err != nil {
			return im, err
		}
		if len(prev) > 0 {
			return im, ErrImportedOnce
		}
	}
	return im, nil
}

// launch creates the crowd if asked, then queues the job and records the
// target in one transaction.
func (s *Service) launch(ctx context.Context, im db.Import, userID int64, actor string, t Target) (int64, error) {
	target := db.ImportTarget{CrowdID: t.CrowdID, CreateMissing: t.CreateMissing}
	if t.CrowdID == 0 {
		c, err := s.Create(ctx, actor, strings.TrimSpace(t.NewCrowd), t.Description)
		if err != nil {
			return 0, err
		}
		target.CrowdID, target.CrowdName, target.CrowdNew = c.GroupID, c.Name, true
	} else {
		c, err := s.cfg.Store.Crowd(ctx, t.CrowdID)
		if errors.Is(err, db.ErrNotFound) {
			return 0, ErrTargetGone
		}
		if err != nil {
			return 0, err
		}
		target.CrowdName = c.Name
	}
	_, conn := s.cfg.Platform.Current()
	params := importParams{ImportID: im.ID, Connection: conn, Actor: actor, CrowdID: target.CrowdID, CrowdName: target.CrowdName,
		CrowdNew: target.CrowdNew, CreateMissing: target.CreateMissing}
	job, err := s.cfg.Runner.EnqueueWith(ctx, jobs.Spec{Kind: ImportJobKind, OwnerID: userID, Total: im.Counts.Valid,
		Title: jobs.Title("jobs.title.import", msg.Str("File", im.FileName), msg.Str("Crowd", target.CrowdName)), Params: params},
		func(ctx context.Context, nj db.NewJob) (db.Job, error) {
			return s.cfg.Store.QueueImportRun(ctx, im.ID, target, nj)
		})
	return job.ID, err
}

// Checkpoints of an import job: the phase reached. Within a phase the rows'
// states say what is left.
const (
	phaseResolve = ""
	phaseCreate  = "create"
	phaseMembers = "members"
	phaseImport  = "import"
)

// importRun is one run of an import job.
type importRun struct {
	s      *Service
	t      *jobs.Task
	im     db.Import // its target as the job's parameters say
	client *jing.Client
	wctx   context.Context // ctx with the actor, for platform writes
	phases phases
	begun  map[string]bool // phases begun in this run
}

// runImport is the import job's handler.
func (s *Service) runImport(ctx context.Context, t *jobs.Task) error {
	var p importParams
	if err := t.Params(&p); err != nil {
		return err
	}
	client, conn := s.cfg.Platform.Current()
	if conn != p.Connection {
		return errors.New("the platform connection changed since the import was started")
	}
	// The job carries its target, and the import's target was written in
	// the same transaction as the job (QueueImportRun): nothing to wait for.
	im, err := s.cfg.Store.Import(ctx, p.ImportID)
	if err != nil {
		return err
	}
	if p.CrowdID != 0 { // jobs queued before the target travelled with them read it from the import
		im.CrowdID, im.CrowdName, im.CrowdNew, im.CreateMissing = p.CrowdID, p.CrowdName, p.CrowdNew, p.CreateMissing
	}
	if im.CrowdID == 0 {
		return errors.New("the import names no crowd")
	}
	r := &importRun{s: s, t: t, im: im, client: client, wctx: jing.WithActor(ctx, p.Actor), phases: readPhases(im.Phases),
		begun: map[string]bool{}}
	t.SetTotal(im.Counts.Valid)
	phases := []struct {
		name string
		run  func(context.Context) error
	}{
		{phaseResolve, r.resolve}, {phaseCreate, r.create}, {phaseMembers, r.members}, {phaseImport, r.importRows},
	}
	at := t.Checkpoint()
	started := false
	for i, ph := range phases {
		if !started && ph.name != at {
			continue
		}
		started = true
		if err := r.beginPhase(ctx, ph.name); err != nil {
			return err
		}
		if err := ph.run(ctx); err != nil {
			return err
		}
		next := "done"
		if i+1 < len(phases) {
			next = phases[i+1].name
		}
		if err := r.save(ctx, next); err != nil {
			return err
		}
		if err := r.endPhase(ctx, ph.name); err != nil {
			return err
		}
	}
	if !started && at != "done" {
		return fmt.Errorf("import job: unknown checkpoint %q", at)
	}
	if _, err := s.Refresh(ctx, im.CrowdID, db.Crowd{GroupID: im.CrowdID, Name: im.CrowdName}); err != nil {
		s.log.Warn("refresh the crowd after an import", "crowd", im.CrowdID, "error", err)
	}
	if im.Counts.Total >= bigImport {
		// Its rows moved the tables' sizes a long way.
		upkeep.AfterBigChange(ctx, s.cfg.Store, s.log.With("import", im.ID), "an import")
	}
	return nil
}

// bigImport is the file size, in rows, after which an import refreshes the
// query planner's statistics when it ends.
const bigImport = 10_000

// save counts the rows from their states and saves the job's progress.
func (r *importRun) save(ctx context.Context, checkpoint string) error {
	n, err := r.s.cfg.Store.ImportStateCounts(ctx, r.im.ID)
	if err != nil {
		return err
	}
	r.t.SetCounts(n[db.RowImported]+n[db.RowAlreadyMember]+n[db.RowNotFound], n[db.RowFailed])
	return r.t.Save(checkpoint)
}

// batches runs step on successive batches of rows in state, until none are
// left; step must move every row it is given out of state.
func (r *importRun) batches(ctx context.Context, state string, size int, checkpoint string,
	step func(context.Context, []db.ImportRow) ([]db.ImportRow, error)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := r.s.cfg.Store.ImportRowsIn(ctx, r.im.ID, state, size)
		if err != nil || len(rows) == 0 {
			return err
		}
		var out []db.ImportRow
		err = r.retrying(ctx, func() error {
			var err error
			out, err = step(ctx, rows)
			return err
		})
		if err != nil {
			return err
		}
		if err := r.s.cfg.Store.SetImportRows(ctx, r.im.ID, out); err != nil {
			return err
		}
		if err := r.save(ctx, checkpoint); err != nil {
			return err
		}
	}
}

// maxTries bounds the job's own retries of a batch, beyond the client's.
const maxTries = 5

// retrying runs call until it succeeds or fails for good. The client has
// already retried what it safely could; a platform still unavailable is
// tried again after a pause, and after that the job waits a minute and
// resumes by itself. A used-up daily quota makes the job wait until the
// quota resets. Anything else (a refusal, bad credentials) ends the job.
func (r *importRun) retrying(ctx context.Context, call func() error) error {
	delay := r.s.cfg.RetryDelay
	for try := 1; ; try++ {
		err := call()
		je, ok := jing.AsError(err)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case ok && je.Kind == jing.KindQuota:
			return err // the job pauses until the quota resets (jobs.Pauser)
		case !worthRetrying(err):
			return err
		case try == maxTries:
			why := msg.New("imports.wait.unavailable", msg.Nested("Error", msg.FromError(err)))
			var nf *notFoundYet
			if errors.As(err, &nf) {
				why = msg.New("imports.wait.created_unresolved", msg.Int("Count", int64(nf.n)))
			}
			return jobs.WaitUntil(r.s.cfg.Now().Add(time.Minute), why.Encode())
		}
		r.s.log.Info("import batch failed; trying again", "import", r.im.ID, "try", try, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// worthRetrying: the platform or the network failed, or persons it created
// cannot be found yet, so the same batch may go through later (every call
// of an import is safe to repeat).
func worthRetrying(err error) bool {
	var nf *notFoundYet
	if errors.As(err, &nf) {
		return true
	}
	je, ok := jing.AsError(err)
	if !ok {
		return !errors.Is(err, context.Canceled) // a network error outside the client's own retries
	}
	return je.Transient() || je.Kind == jing.KindOutcomeUnknown
}

// --- phases ---

// resolve looks the pending rows' identities up. Rows matched on
// omni_user_uuid need no lookup: the crowd import says which it knows.
func (r *importRun) resolve(ctx context.Context) error {
	return r.batches(ctx, db.RowPending, 100, phaseResolve, func(ctx context.Context, rows []db.ImportRow) ([]db.ImportRow, error) {
		if r.im.IdentityType == importfile.ColUUID {
			for i := range rows {
				rows[i].State, rows[i].UUID = db.RowResolved, rows[i].Value
			}
			return rows, nil
		}
		values := make([]string, len(rows))
		for i, row := range rows {
			values[i] = row.Value
		}
		found, err := r.client.ResolveIdentities(ctx, r.im.IdentityType, values)
		if err != nil {
			return nil, err
		}
		for i, row := range rows {
			rows[i].State, rows[i].UUID = db.RowUnknown, ""
			if uuid := found[row.Value]; uuid != "" {
				rows[i].State, rows[i].UUID = db.RowResolved, uuid
			}
		}
		return rows, nil
	})
}

// create creates the persons the platform did not know, or marks them
// not found when the user chose to skip them.
func (r *importRun) create(ctx context.Context) error {
	if !r.im.CreateMissing {
		return r.batches(ctx, db.RowUnknown, 1000, phaseCreate, func(_ context.Context, rows []db.ImportRow) ([]db.ImportRow, error) {
			for i := range rows {
				rows[i].State, rows[i].Reason = db.RowNotFound, "unknown_person"
			}
			return rows, nil
		})
	}
	return r.batches(ctx, db.RowUnknown, 100, phaseCreate, r.createBatch)
}

// identityLabels are users.create's identity names, as the platform's console shows them.
var identityLabels = map[string]string{importfile.ColMobile: "手机号", importfile.ColEmail: "邮箱",
	importfile.ColOpenID: "微信 OpenID", importfile.ColUnionID: "微信 UnionID"}

// personInput is the person a row creates: the identity matched on, the
// row's other valid identities, and its mapped fields (name and the rest),
// so nothing the file says about the person is left out.
func (r *importRun) personInput(row db.ImportRow) jing.PersonInput {
	in := jing.PersonInput{Identities: []jing.Identity{{Type: r.im.IdentityType, Value: row.Value, Name: identityLabels[r.im.IdentityType]}}}
	for _, role := range importfile.IdentityRoles {
		if v := row.Extra[role]; v != "" && role != r.im.IdentityType {
			in.Identities = append(in.Identities, jing.Identity{Type: role, Value: v, Name: identityLabels[role]})
		}
	}
	fields := map[string]any{}
	if row.Name != "" {
		fields[importfile.ColName] = row.Name
	}
	for _, role := range importfile.FieldRoles {
		if v := row.Extra[role]; v != "" {
			fields[role] = v
		}
	}
	if len(fields) > 0 {
		in.Fields = fields
	}
	return in
}

func (r *importRun) createBatch(_ context.Context, rows []db.ImportRow) ([]db.ImportRow, error) {
	in := make([]jing.PersonInput, len(rows))
	for i, row := range rows {
		in[i] = r.personInput(row)
	}
	res, err := r.client.CreatePersons(r.wctx, in)
	if err != nil {
		return nil, err
	}
	if len(res.Unresolved) > 0 {
		// Created, but not found by their identities yet: never a failure.
		// The batch is tried again (creating merges into the known persons).
		return nil, &notFoundYet{len(res.Unresolved)}
	}
	created, refused := map[string]string{}, map[string]string{}
	for _, ok := range res.Success {
		for _, id := range ok.Identities {
			if id.Type == r.im.IdentityType {
				created[strings.ToLower(id.Value)] = ok.OmniUserUUID
			}
		}
	}
	for _, f := range res.Failure {
		reason := f.Reason
		if f.Unanswered || strings.TrimSpace(reason) == "" {
			reason = "no_answer"
		}
		for _, id := range f.Identities {
			if id.Type == r.im.IdentityType {
				refused[strings.ToLower(id.Value)] = reason
			}
		}
	}
	for i, row := range rows {
		key := strings.ToLower(row.Value)
		switch {
		case created[key] != "":
			rows[i].State, rows[i].UUID, rows[i].Created = db.RowResolved, created[key], true
		case refused[key] != "":
			rows[i].State, rows[i].Reason = db.RowFailed, refused[key]
		default:
			rows[i].State, rows[i].Reason = db.RowFailed, "no_answer"
		}
	}
	return rows, nil
}

// notFoundYet is a batch of users.create whose created persons the
// platform cannot yet resolve by their identities.
type notFoundYet struct{ n int }

func (e *notFoundYet) Error() string {
	return fmt.Sprintf("%d persons the platform created are not found by their identities yet", e.n)
}

// members marks the rows whose person is in the crowd already. A crowd
// the import created has no members but those it adds.
func (r *importRun) members(ctx context.Context) error {
	if r.im.CrowdNew {
		return nil
	}
	resolved := map[string]bool{}
	after := int64(0)
	for {
		rows, err := r.s.cfg.Store.ImportRowsPage(ctx, r.im.ID, []string{db.RowResolved}, after, 5000)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for _, row := range rows {
			resolved[row.UUID] = true
		}
		after = rows[len(rows)-1].Line
	}
	if len(resolved) == 0 {
		return nil
	}
	var already []string
	err := r.retrying(ctx, func() error {
		already = already[:0]
		for m, err := range r.client.AllCrowdUsers(ctx, r.im.CrowdID) {
			if err != nil {
				return err
			}
			if resolved[m.OmniUserUUID] {
				already = append(already, m.OmniUserUUID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = r.s.cfg.Store.MarkAlreadyMembers(ctx, r.im.ID, already)
	return err
}

// importRows adds the resolved persons to the crowd, 1,000 a call.
func (r *importRun) importRows(ctx context.Context) error {
	return r.batches(ctx, db.RowResolved, 1000, phaseImport, func(ctx context.Context, rows []db.ImportRow) ([]db.ImportRow, error) {
		uuids := distinctUUIDs(rows)
		refused, err := r.importExactly(ctx, uuids)
		if err != nil {
			return nil, err
		}
		for i, row := range rows {
			rows[i].State = db.RowImported
			if refused[row.UUID] {
				rows[i].State, rows[i].Reason = db.RowFailed, "refused_by_crowd"
				if r.im.IdentityType == importfile.ColUUID {
					rows[i].State, rows[i].Reason = db.RowNotFound, "unknown_person"
				}
			}
		}
		return rows, nil
	})
}

func distinctUUIDs(rows []db.ImportRow) []string {
	seen := map[string]bool{}
	var out []string
	for _, row := range rows {
		if !seen[row.UUID] {
			seen[row.UUID] = true
			out = append(out, row.UUID)
		}
	}
	return out
}

// importExactly imports uuids and finds which the platform refused. The
// platform only counts refusals (error_number), so a batch with any is
// split in halves and each half sent again (the import is idempotent)
// until every refused uuid is singled out.
func (r *importRun) importExactly(ctx context.Context, uuids []string) (map[string]bool, error) {
	res, err := r.client.ImportToCrowd(r.wctx, r.im.CrowdID, uuids)
	if err != nil {
		return nil, err
	}
	batch := db.ImportBatch{Size: int64(len(uuids)), Success: int64(res.SuccessNumber), Errors: int64(res.ErrorNumber)}
	if err := r.s.cfg.Store.AddImportBatch(ctx, r.im.ID, batch); err != nil {
		return nil, err
	}
	refused := map[string]bool{}
	switch {
	case res.ErrorNumber == 0:
		return refused, nil
	case len(uuids) == 1 || res.ErrorNumber >= len(uuids):
		for _, u := range uuids {
			refused[u] = true
		}
		return refused, nil
	}
	half := len(uuids) / 2
	for _, part := range [][]string{uuids[:half], uuids[half:]} {
		sub, err := r.importExactly(ctx, part)
		if err != nil {
			return nil, err
		}
		for u := range sub {
			refused[u] = true
		}
	}
	return refused, nil
}

// ImportUUIDs imports persons by omni_user_uuid into a crowd: the way other
// parts of the console (a scores selection) make a crowd. It goes through
// a generated file named fileName (".csv" added when it has no such
// ending: the file is a CSV), so it is validated, run, reported and kept
// in the history like any import. It returns the import's id.
func (s *Service) ImportUUIDs(ctx context.Context, userID int64, actor, fileName string, uuids []string, t Target) (int64, error) {
	if !strings.HasSuffix(strings.ToLower(fileName), ".csv") {
		fileName += ".csv"
	}
	var file strings.Builder
	file.WriteString(importfile.ColUUID + "\n")
	for _, u := range uuids {
		file.WriteString(u + "\n")
	}
	id, err := s.Upload(ctx, userID, fileName, strings.NewReader(file.String()))
	if err != nil {
		return 0, err
	}
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return id, err
	}
	// Validated here and now whatever its size: the caller starts it next.
	if _, err := s.validate(ctx, im, userID, []string{importfile.ColUUID}, importfile.ColUUID, false); err != nil {
		return id, err
	}
	t.Again = true // a generated file: its hash says nothing of the user's intent
	if _, err := s.Start(ctx, id, userID, actor, t); err != nil {
		return id, err
	}
	return id, nil
}

// Package leadexport writes the leads list as a spreadsheet: exactly the
// leads the list's filter selects (the store's one predicate, through
// db.EachLead), with the names the list shows, contact data masked for
// those the list masks it for, through the one spreadsheet writer
// (internal/sheet: CSV with a BOM, or xlsx; formulas kept as text).
//
// A small export is written straight into the answer; one of more than
// Threshold rows runs as a job (progress on the Jobs page) that writes a
// file in Dir, which its owner (or an administrator) downloads once it is
// done. Files are deleted after Keep.
package leadexport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/sheet"
)

// JobKind is a large export's job.
const JobKind = "leads.export"

// Defaults.
const (
	DefaultThreshold = 5000
	DefaultKeep      = 24 * time.Hour
)

// Refusals.
var (
	ErrNoReference = msg.Refuse(msg.Unavailable, "leadexport.error.no_reference")
	ErrFormat      = msg.Refuse(msg.Invalid, "leadexport.error.format")
	ErrNotExport   = msg.Refuse(msg.NotFound, "leadexport.error.not_found")
	ErrNotYours    = msg.Refuse(msg.Forbidden, "leadexport.error.not_yours")
	ErrNotReady    = msg.Refuse(msg.Conflict, "leadexport.error.not_ready")
	ErrGone        = msg.Refuse(msg.NotFound, "leadexport.error.gone")
)

// Config is what the service needs.
type Config struct {
	Store   *db.Store
	Runner  *jobs.Runner
	Catalog *i18n.Catalog
	// Names resolves ids to names (the reference data's current resolver;
	// nil while there is none).
	Names     func() *refdata.Resolver
	Dir       string        // where large exports' files wait (created when needed)
	Threshold int           // rows above which an export is a job; default DefaultThreshold
	Keep      time.Duration // how long a finished file is kept; default DefaultKeep
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service exports the leads list.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New builds the service and registers its job kind.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Runner == nil || cfg.Catalog == nil || cfg.Names == nil || cfg.Dir == "" {
		return nil, errors.New("leadexport: a store, a job runner, the catalog, the names and a directory are required")
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultThreshold
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "leadexport")}
	cfg.Runner.Register(JobKind, s.runExport)
	return s, nil
}

// Request is an export of the list as it is filtered.
type Request struct {
	Filter db.LeadFilter // the list's filter (its page ignored)
	Format sheet.Format
	Lang   string // the header's, the names' and the dates' language
	Masked bool   // mobile and email masked (set by Plan from the user's role)
	Query  string // the list's query string, for the audit and the job's title
}

// Plan is how an export goes: Rows leads; JobID is the job writing them
// when they are more than the threshold (0: write them now, with Write).
type Plan struct {
	Rows    int
	JobID   int64
	Masked  bool
	Request Request
}

// Begin counts the leads req selects and, when there are more than the
// threshold, queues a job to write them for u. Contact data is masked
// for those who see it masked in the list (viewers: leads.MaskedFor).
func (s *Service) Begin(ctx context.Context, u *db.User, req Request) (Plan, error) {
	if req.Format != sheet.CSV && req.Format != sheet.XLSX {
		return Plan{}, ErrFormat
	}
	if s.cfg.Names() == nil {
		return Plan{}, ErrNoReference
	}
	req.Masked = maskedFor(u)
	req.Filter.Limit, req.Filter.Offset = 1, 0
	_, n, err := s.cfg.Store.ListLeads(ctx, req.Filter)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Rows: n, Masked: req.Masked, Request: req}
	if n <= s.cfg.Threshold {
		return p, nil
	}
	job, err := s.cfg.Runner.Enqueue(ctx, jobs.Spec{Kind: JobKind, Title: msg.New("leadexport.job_title", msg.Str("Format", string(req.Format)), msg.Int("Count", int64(n))).Encode(),
		OwnerID: u.ID, Params: req, Total: int64(n)})
	if err != nil {
		return Plan{}, err
	}
	p.JobID = job.ID
	return p, nil
}

// maskedFor is whether u sees contact data masked: the list's rule.
func maskedFor(u *db.User) bool { return u == nil || !roles.Works(u.Role) }

// FileName is the download's name for an export made at t.
func FileName(f sheet.Format, t time.Time) string {
	return "leads-" + t.Format("20060102-1504") + "." + string(f)
}

// Now is the service's clock (for the file name).
func (s *Service) Now() time.Time { return s.cfg.Now() }

// Write writes the export's rows to w: the header in req.Lang, then one
// row per lead. done, when not nil, is told every rowsPerTick rows.
func (s *Service) Write(ctx context.Context, w io.Writer, req Request, done func(rows int)) error {
	r := s.cfg.Names()
	if r == nil {
		return ErrNoReference
	}
	sw, err := sheet.New(w, req.Format)
	if err != nil {
		return err
	}
	defer sw.Discard()
	loc := s.cfg.Catalog.Localizer(req.Lang)
	if err := sw.WriteText(header(loc)...); err != nil {
		return err
	}
	req.Filter.Limit, req.Filter.Offset = 0, 0
	rows := 0
	err = s.cfg.Store.EachLead(ctx, req.Filter, func(l db.Lead) error {
		if err := sw.Write(row(r, loc, l, req.Masked)...); err != nil {
			return err
		}
		rows++
		if done != nil && rows%rowsPerTick == 0 {
			done(rows)
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	if done != nil && rows%rowsPerTick != 0 {
		done(rows)
	}
	return sw.Close()
}

// rowsPerTick is how often Write reports progress.
const rowsPerTick = 1000

// Columns are the export's columns, in order; the header names them in
// the reader's language ("leadexport.column.<name>").
var Columns = []string{"name", "company", "title", "business_type", "status", "owner", "source", "lead_pool",
	"mobile", "email", "created", "updated", "status_since", "uuid"}

func header(loc *i18n.Localizer) []string {
	out := make([]string, len(Columns))
	for i, c := range Columns {
		out[i] = loc.T("leadexport.column." + c)
	}
	return out
}

// row is a lead's cells, in Columns' order, its ids resolved as the
// list resolves them.
func row(r *refdata.Resolver, loc *i18n.Localizer, l db.Lead, masked bool) []any {
	status, _ := r.Status(loc.Lang, l.BusinessType, l.Status)
	owner := ""
	if l.Owner != "" {
		owner = r.Member(loc.Lang, l.Owner)
	}
	source := ""
	if l.Source != "" {
		source = r.Option(loc.Lang, "lead", "source_type", l.Source)
	}
	mobile, email := l.Mobile, l.Email
	if masked {
		mobile, email = leads.Mask(mobile), leads.Mask(email)
	}
	when := func(unix int64) string {
		if unix == 0 {
			return ""
		}
		return time.Unix(unix, 0).In(loc.Zone()).Format(time.DateTime)
	}
	return []any{l.Name, l.Company, l.Title, r.BusinessType(loc.Lang, "lead", l.BusinessType), status, owner, source, l.LeadPool,
		mobile, email, when(l.CreatedAt), when(l.UpdatedAt), when(l.StatusSince), l.UUID}
}

// runExport writes a large export's file: into a temporary name, renamed
// when complete, so a download never gets half a file. A run resumed
// after an interruption starts the file again.
func (s *Service) runExport(ctx context.Context, t *jobs.Task) error {
	var req Request
	if err := t.Params(&req); err != nil {
		return err
	}
	s.prune()
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return err
	}
	final := s.path(t.ID(), req.Format)
	f, err := os.CreateTemp(s.cfg.Dir, filepath.Base(final)+".*.part")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	t.SetCounts(0, 0)
	err = s.Write(ctx, f, req, func(rows int) {
		t.SetCounts(int64(rows), 0)
		if t.Counts().Total < int64(rows) {
			t.SetTotal(int64(rows)) // leads added since the count
		}
		if err := t.Save(""); err != nil {
			s.log.Warn("export progress", "job", t.ID(), "error", err) // a lost lease also cancels ctx, which stops Write
		}
	})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), final)
}

func (s *Service) path(jobID int64, f sheet.Format) string {
	return filepath.Join(s.cfg.Dir, fmt.Sprintf("lead-export-%d.%s", jobID, f))
}

// prune deletes export files older than Keep (and parts left by a crash).
func (s *Service) prune() {
	entries, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return
	}
	cutoff := s.cfg.Now().Add(-s.cfg.Keep)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(s.cfg.Dir, e.Name())); err != nil {
				s.log.Warn("prune export", "file", e.Name(), "error", err)
			}
		}
	}
}

// Download is a finished export's file for u: its owner's, or any for an
// administrator.
type Download struct {
	Path   string
	Name   string
	Format sheet.Format
}

// File is job id's file, when u may have it and it is done.
func (s *Service) File(ctx context.Context, u *db.User, id int64) (Download, error) {
	j, err := s.cfg.Store.Job(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && j.Kind != JobKind) {
		return Download{}, ErrNotExport
	}
	if err != nil {
		return Download{}, err
	}
	if u == nil || (j.OwnerID != u.ID && u.Role != roles.Admin) {
		return Download{}, ErrNotYours
	}
	if j.State != db.JobDone {
		return Download{}, ErrNotReady
	}
	var req Request
	if err := jsonParams(j.Params, &req); err != nil {
		return Download{}, err
	}
	p := s.path(j.ID, req.Format)
	if _, err := os.Stat(p); err != nil {
		return Download{}, ErrGone
	}
	return Download{Path: p, Name: FileName(req.Format, time.Unix(j.FinishedAt, 0).In(s.cfg.Catalog.Localizer(req.Lang).Zone())), Format: req.Format}, nil
}

// Ready reports whether job j is an export whose file u may download now.
func (s *Service) Ready(u *db.User, j db.Job) bool {
	return j.Kind == JobKind && j.State == db.JobDone && u != nil && (j.OwnerID == u.ID || u.Role == roles.Admin)
}

func jsonParams(raw string, v any) error {
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("leadexport: job params: %w", err)
	}
	return nil
}

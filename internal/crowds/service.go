// Package crowds keeps the local copy of the platform's static crowds,
// writes crowd changes to the platform first, and runs imports: from an
// uploaded spreadsheet, validated row by row, to the platform's crowd, as
// a resumable background job whose every row's state is in SQLite.
package crowds

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// Job kinds on the jobs runner.
const (
	SyncJobKind     = "crowds.sync"
	ImportJobKind   = "crowds.import"
	ValidateJobKind = "crowds.validate"
)

// DefaultMaxUpload is the largest file an import accepts unless configured.
const DefaultMaxUpload int64 = 100 << 20

// DefaultTTL is how old the crowd list may be before a page view refreshes it.
const DefaultTTL = 5 * time.Minute

// Config builds a Service. Zero values take the defaults.
type Config struct {
	Store     *db.Store
	Platform  platform.Live
	Runner    *jobs.Runner
	DataDir   string // uploads are kept in DataDir/imports
	MaxUpload int64  // default DefaultMaxUpload
	TTL       time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
	// RetryDelay is the first pause before a batch the platform could not
	// take is tried again (doubling, five tries); default 2 s.
	RetryDelay time.Duration
	// ValidateInRequest is the largest file validated within the request
	// (DefaultValidateInRequest); larger ones are validated by a job.
	ValidateInRequest int64
}

// Service is the crowds and imports service.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New builds the service and registers its job kinds on cfg.Runner.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Platform == nil || cfg.Runner == nil || cfg.DataDir == "" {
		return nil, errors.New("crowds: store, platform, runner and data directory are required")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 2 * time.Second
	}
	if cfg.ValidateInRequest <= 0 {
		cfg.ValidateInRequest = DefaultValidateInRequest
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "crowds")}
	cfg.Runner.Register(SyncJobKind, s.runSync)
	cfg.Runner.Register(ImportJobKind, s.runImport)
	cfg.Runner.Register(ValidateJobKind, s.runValidate)
	return s, nil
}

// MaxUpload is the largest file an import accepts.
func (s *Service) MaxUpload() int64 { return s.cfg.MaxUpload }

func (s *Service) uploadDir() string { return filepath.Join(s.cfg.DataDir, "imports") }

// --- the crowd list ---

type syncParams struct {
	Connection string `json:"connection"`
}

// RequestSync queues a refresh of the crowd list (or joins the one queued).
func (s *Service) RequestSync(ctx context.Context, userID int64) (int64, error) {
	_, conn := s.cfg.Platform.Current()
	return jobs.EnqueueOrJoin(ctx, s.cfg.Runner, jobs.Spec{Kind: SyncJobKind, Title: "Refresh the crowd list",
		OwnerID: userID, Params: syncParams{conn}}, func(p syncParams) bool { return p.Connection == conn })
}

// Freshness says when the list was last complete and whether it is stale
// (older than the TTL, from another connection, or never fetched).
func (s *Service) Freshness(ctx context.Context) (db.CrowdSync, bool, error) {
	st, err := s.cfg.Store.CrowdSyncState(ctx)
	if err != nil {
		return st, false, err
	}
	_, conn := s.cfg.Platform.Current()
	stale := st.SyncedAt == 0 || st.Connection != conn || s.cfg.Now().Sub(time.Unix(st.SyncedAt, 0)) > s.cfg.TTL
	return st, stale, nil
}

// CopyState is how fresh the local copy of the crowd list is.
type CopyState struct {
	db.CrowdSync
	Stale   bool // older than the TTL, from another connection, or never fetched
	Syncing bool // a refresh from the platform is queued or running
}

// copyState is the copy's state; when refreshIf says so of it, a refresh
// is asked for (joining one already queued or running) before it tells
// whether one runs. A refresh that cannot be queued is logged: the copy
// as it is still serves.
func (s *Service) copyState(ctx context.Context, userID int64, refreshIf func(st db.CrowdSync, stale bool) bool) (CopyState, error) {
	st, stale, err := s.Freshness(ctx)
	if err != nil {
		return CopyState{}, err
	}
	if refreshIf(st, stale) {
		if _, err := s.RequestSync(ctx, userID); err != nil {
			s.log.Warn("request a refresh of the crowd list", "error", err)
		}
	}
	pending, err := s.cfg.Store.PendingJobs(ctx, SyncJobKind)
	return CopyState{CrowdSync: st, Stale: stale, Syncing: len(pending) > 0}, err
}

// Listing is one page of the local copy of the crowd list.
type Listing struct {
	Crowds []db.Crowd
	Total  int // crowds matching the search
	Page   int // the page listed: the one asked for, or the last when that is past the end
	Copy   CopyState
}

// List is page (1-based, perPage crowds a page) of the local copy, the
// crowds matching query in their name or description, most recently
// updated first. A page past the end (the list shrank since) is the last
// page. refresh asks for a refresh from the platform when the copy is
// stale: a page view keeps the list fresh without waiting for it.
func (s *Service) List(ctx context.Context, userID int64, query string, page, perPage int, refresh bool) (Listing, error) {
	cs, err := s.copyState(ctx, userID, func(_ db.CrowdSync, stale bool) bool { return refresh && stale })
	if err != nil {
		return Listing{}, err
	}
	page = max(page, 1)
	f := db.CrowdFilter{Query: query, Limit: perPage, Offset: (page - 1) * perPage}
	rows, total, err := s.cfg.Store.ListCrowds(ctx, f)
	if err != nil {
		return Listing{}, err
	}
	if pages := (total + perPage - 1) / perPage; page > pages && pages > 0 {
		page, f.Offset = pages, (pages-1)*perPage
		if rows, total, err = s.cfg.Store.ListCrowds(ctx, f); err != nil {
			return Listing{}, err
		}
	}
	return Listing{Crowds: rows, Total: total, Page: page, Copy: cs}, nil
}

// targetFreshness is how old the crowd list may be when an import's target
// step opens before it is refreshed: a user choosing where rows go should
// see every crowd the platform has, including one made there a minute ago.
const targetFreshness = 30 * time.Second

// TargetCrowds are the crowds an import may go into: the whole local copy,
// by name, and how fresh it is. With refresh (the target step opens) a
// copy older than targetFreshness is refreshed from the platform in the
// background (joining a refresh under way).
func (s *Service) TargetCrowds(ctx context.Context, userID int64, refresh bool) ([]db.Crowd, CopyState, error) {
	cs, err := s.copyState(ctx, userID, func(st db.CrowdSync, stale bool) bool {
		return refresh && (stale || s.cfg.Now().Sub(time.Unix(st.SyncedAt, 0)) > targetFreshness)
	})
	if err != nil {
		return nil, cs, err
	}
	list, err := s.cfg.Store.CrowdsByName(ctx)
	return list, cs, err
}

// runSync lists every crowd and makes the local list exactly that.
func (s *Service) runSync(ctx context.Context, t *jobs.Task) error {
	client, conn := s.cfg.Platform.Current()
	var all []db.Crowd
	for c, err := range client.AllCrowds(ctx, "") {
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Store.RecordCrowdSyncError(context.WithoutCancel(ctx), msg.ErrorText(err))
			}
			return err
		}
		all = append(all, localCrowd(c))
		t.Did(1)
	}
	t.SetTotal(int64(len(all)))
	return s.cfg.Store.ReplaceCrowds(ctx, conn, all)
}

func localCrowd(c jing.Crowd) db.Crowd {
	return db.Crowd{GroupID: c.GroupID, Name: c.Name, Description: c.Description, UserCount: int64(c.UserCount),
		CreatedAt: seconds(c.CreatedTimestamp), UpdatedAt: seconds(c.UpdatedTimestamp)}
}

// seconds reads a platform timestamp, which may be in seconds or milliseconds.
func seconds(ts int64) int64 {
	if ts > 1e11 {
		return ts / 1000
	}
	return ts
}

// --- crowd writes: the platform first, then the local copy ---

// Refusals of a crowd's name and description, before anything reaches the
// platform (its own limits: it would refuse them anyway).
var (
	ErrCrowdNameMissing     = msg.Refuse(msg.Invalid, "crowds.error.name_required").On("name")
	ErrCrowdNameLong        = msg.Refuse(msg.Invalid, "crowds.error.name_long", msg.Int("Max", CrowdNameMax)).On("name")
	ErrCrowdDescriptionLong = msg.Refuse(msg.Invalid, "crowds.error.description_long", msg.Int("Max", CrowdDescriptionMax)).On("description")
)

// checkCrowd refuses a name or description the platform would refuse.
func checkCrowd(name, description string) error {
	switch {
	case name == "":
		return ErrCrowdNameMissing
	case tooLong(name, CrowdNameMax):
		return ErrCrowdNameLong
	case tooLong(description, CrowdDescriptionMax):
		return ErrCrowdDescriptionLong
	}
	return nil
}

// tooLong: the platform counts characters, not bytes.
func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// Create makes a crowd on the platform on behalf of actor and keeps it
// locally. The name and description are trimmed; one the platform would
// refuse is refused first (ErrCrowdNameMissing & co.).
func (s *Service) Create(ctx context.Context, actor, name, description string) (db.Crowd, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if err := checkCrowd(name, description); err != nil {
		return db.Crowd{}, err
	}
	client, _ := s.cfg.Platform.Current()
	id, err := client.CreateCrowd(jing.WithActor(ctx, actor), name, description)
	if err != nil {
		return db.Crowd{}, err
	}
	return s.Refresh(ctx, id, db.Crowd{GroupID: id, Name: name, Description: description, CreatedAt: s.cfg.Now().Unix(),
		UpdatedAt: s.cfg.Now().Unix()})
}

// Update renames a crowd and sets its description (checked as by Create).
// A crowd found gone from the platform when read back is the zero Crowd.
func (s *Service) Update(ctx context.Context, actor string, groupID int64, name, description string) (db.Crowd, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if err := checkCrowd(name, description); err != nil {
		return db.Crowd{}, err
	}
	client, _ := s.cfg.Platform.Current()
	if err := client.UpdateCrowd(jing.WithActor(ctx, actor), groupID, name, description); err != nil {
		return db.Crowd{}, err
	}
	before, _ := s.cfg.Store.Crowd(ctx, groupID)
	before.GroupID, before.Name, before.Description, before.UpdatedAt = groupID, name, description, s.cfg.Now().Unix()
	return s.Refresh(ctx, groupID, before)
}

// ErrGone: the crowd is no longer on the platform (the local copy has
// dropped it). The refusal that stands for it names the crowd.
var ErrGone = errors.New("crowds: the crowd is no longer on the platform")

// ErrWrongCount: the count typed to confirm a deletion is not the crowd's
// member count. The refusal that stands for it says the count to type.
var ErrWrongCount = errors.New("crowds: the count typed is not the member count")

// Current is cr as the platform has it now, read again into the local
// copy; a crowd gone from the platform is a refusal standing for ErrGone.
func (s *Service) Current(ctx context.Context, cr db.Crowd) (db.Crowd, error) {
	fresh, err := s.Refresh(ctx, cr.GroupID, cr)
	if err != nil {
		return cr, err
	}
	if fresh.GroupID == 0 {
		return cr, msg.Refuse(msg.NotFound, "crowds.gone", msg.Str("Name", cr.Name)).Because(ErrGone)
	}
	return fresh, nil
}

// Delete deletes a crowd on the platform, then locally, once typed is its
// member count as the platform has it now: the crowd is read again first,
// so nobody confirms a count that changed meanwhile. Spaces and thousands
// separators in typed are ignored. It returns the crowd as read; a count
// that is not the member count is a refusal standing for ErrWrongCount,
// and nothing is deleted.
func (s *Service) Delete(ctx context.Context, actor string, cr db.Crowd, typed string) (db.Crowd, error) {
	cr, err := s.Current(ctx, cr)
	if err != nil {
		return cr, err
	}
	n, perr := strconv.ParseInt(strings.NewReplacer(",", "", " ", "").Replace(typed), 10, 64)
	if perr != nil || n != cr.UserCount {
		return cr, msg.Refuse(msg.Invalid, "crowds.delete.wrong_count", msg.Str("Count", strconv.FormatInt(cr.UserCount, 10))).
			On("confirm").Because(ErrWrongCount)
	}
	client, _ := s.cfg.Platform.Current()
	if err := client.DeleteCrowd(jing.WithActor(ctx, actor), cr.GroupID); err != nil {
		return cr, err
	}
	return cr, s.cfg.Store.DeleteCrowd(ctx, cr.GroupID)
}

// Refresh re-reads one crowd from the platform into the local copy. When
// the read fails (the write before it succeeded), fallback is kept instead.
func (s *Service) Refresh(ctx context.Context, groupID int64, fallback db.Crowd) (db.Crowd, error) {
	client, _ := s.cfg.Platform.Current()
	c := fallback
	if pc, err := client.CrowdDetail(ctx, groupID); err == nil {
		c = localCrowd(pc)
	} else if je, ok := jing.AsError(err); ok && je.Code == jing.CodeBusinessFailed {
		return db.Crowd{}, s.cfg.Store.DeleteCrowd(ctx, groupID) // gone from the platform
	}
	if err := s.cfg.Store.SaveCrowd(ctx, c); err != nil {
		return db.Crowd{}, err
	}
	return s.cfg.Store.Crowd(ctx, groupID)
}

// Members is one page of a crowd's members as the platform lists them,
// with what the console knows of each (from imports and the lead copy).
// Without the platform's _meta the total is not known (Total -1) and
// Pages only says whether a next page may exist (a full page: Page+1).
type Members struct {
	Page, PerPage, Total, Pages int
	Items                       []Member
}

// Member is one member of a crowd.
type Member struct {
	UUID     string
	Joined   time.Time
	Identity string // the identity value an import resolved, e.g. a mobile
	Kind     string // its type
	Name     string
}

// MembersPage fetches one page of a crowd's members from the platform; a
// page past the end (members left since) is the last page.
func (s *Service) MembersPage(ctx context.Context, groupID int64, page, perPage int) (Members, error) {
	m, err := s.membersPage(ctx, groupID, max(page, 1), perPage)
	if err == nil && m.Pages > 0 && m.Page > m.Pages {
		return s.membersPage(ctx, groupID, m.Pages, perPage)
	}
	return m, err
}

func (s *Service) membersPage(ctx context.Context, groupID int64, page, perPage int) (Members, error) {
	client, _ := s.cfg.Platform.Current()
	p, err := client.CrowdUsers(ctx, groupID, jing.PageRequest{Page: page, PerPage: perPage})
	if err != nil {
		return Members{}, err
	}
	out := Members{Page: page, PerPage: perPage, Total: p.Meta.TotalCount, Pages: p.Meta.PageCount}
	if !p.Meta.Known() {
		out.Total, out.Pages = -1, page
		if len(p.Items) >= perPage {
			out.Pages = page + 1
		}
	}
	uuids := make([]string, len(p.Items))
	for i, m := range p.Items {
		uuids[i] = m.OmniUserUUID
	}
	known, err := s.cfg.Store.ImportedIdentities(ctx, uuids)
	if err != nil {
		return Members{}, err
	}
	for _, m := range p.Items {
		k := known[m.OmniUserUUID]
		out.Items = append(out.Items, Member{UUID: m.OmniUserUUID, Joined: time.Unix(seconds(m.JoinedTimestamp), 0),
			Identity: k.Value, Kind: k.Reason, Name: k.Name})
	}
	return out, nil
}

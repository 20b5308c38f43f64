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
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// Job kinds on the jobs runner.
const (
	SyncJobKind   = "crowds.sync"
	ImportJobKind = "crowds.import"
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
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "crowds")}
	cfg.Runner.Register(SyncJobKind, s.runSync)
	cfg.Runner.Register(ImportJobKind, s.runImport)
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

// Create makes a crowd on the platform on behalf of actor and keeps it locally.
func (s *Service) Create(ctx context.Context, actor, name, description string) (db.Crowd, error) {
	client, _ := s.cfg.Platform.Current()
	id, err := client.CreateCrowd(jing.WithActor(ctx, actor), name, description)
	if err != nil {
		return db.Crowd{}, err
	}
	return s.Refresh(ctx, id, db.Crowd{GroupID: id, Name: name, Description: description, CreatedAt: s.cfg.Now().Unix(),
		UpdatedAt: s.cfg.Now().Unix()})
}

// Update renames a crowd and sets its description.
func (s *Service) Update(ctx context.Context, actor string, groupID int64, name, description string) (db.Crowd, error) {
	client, _ := s.cfg.Platform.Current()
	if err := client.UpdateCrowd(jing.WithActor(ctx, actor), groupID, name, description); err != nil {
		return db.Crowd{}, err
	}
	before, _ := s.cfg.Store.Crowd(ctx, groupID)
	before.GroupID, before.Name, before.Description, before.UpdatedAt = groupID, name, description, s.cfg.Now().Unix()
	return s.Refresh(ctx, groupID, before)
}

// Delete deletes a crowd on the platform, then locally.
func (s *Service) Delete(ctx context.Context, actor string, groupID int64) error {
	client, _ := s.cfg.Platform.Current()
	if err := client.DeleteCrowd(jing.WithActor(ctx, actor), groupID); err != nil {
		return err
	}
	return s.cfg.Store.DeleteCrowd(ctx, groupID)
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

// MembersPage fetches one page of a crowd's members from the platform.
func (s *Service) MembersPage(ctx context.Context, groupID int64, page, perPage int) (Members, error) {
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

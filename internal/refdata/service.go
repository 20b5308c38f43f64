package refdata

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// Platform is the live platform connection (a *platform.Manager).
type Platform interface {
	// Current is the live client and the name of the platform it talks
	// to; reference data is kept per name.
	Current() (*jing.Client, string)
	// Changed is closed when the live connection is next replaced.
	Changed() <-chan struct{}
}

// Config builds a Service. Zero durations take the defaults.
type Config struct {
	Store    *db.Store
	Platform Platform
	Runner   *jobs.Runner
	// TTL is how old a set may grow before it is refreshed (default 6 h).
	TTL time.Duration
	// CheckEvery is how often the background check looks for sets older
	// than the TTL (default 5 min).
	CheckEvery time.Duration
	// RetryAfter keeps the background check from retrying a set whose last
	// attempt failed more often than this (default 30 min), so an
	// unreachable platform does not fill the Jobs page.
	RetryAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// DefaultTTL is how long reference data counts as fresh.
const DefaultTTL = 6 * time.Hour

func (c Config) withDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = 5 * time.Minute
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = 30 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service owns the reference data: the refresh job, the policy that
// starts it, and the resolver built from what it stored.
type Service struct {
	cfg      Config
	store    *db.Store
	log      *slog.Logger
	resolver atomic.Pointer[Resolver]

	buildMu sync.Mutex // rebuilds run one at a time, so the last one built is the newest

	follower *platform.Follower // nil until Start
}

// New builds the service, registers the refresh job's kind on the runner
// (so call it before the runner starts) and builds the resolver from what
// SQLite holds for the live connection.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Platform == nil || cfg.Runner == nil {
		return nil, errors.New("refdata: a store, a platform and a job runner are required")
	}
	cfg = cfg.withDefaults()
	s := &Service{cfg: cfg, store: cfg.Store, log: cfg.Logger.With("component", "refdata")}
	s.resolver.Store(emptyResolver(s.connection()))
	cfg.Runner.Register(JobKind, s.runRefresh)
	if err := s.rebuild(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// connection names the live platform connection.
func (s *Service) connection() string {
	_, conn := s.cfg.Platform.Current()
	return conn
}

// Resolver is the current index. Take it once per page or export: it is
// replaced, not changed, by a refresh.
func (s *Service) Resolver() *Resolver { return s.resolver.Load() }

// rebuild indexes the live connection's sets anew and swaps the index in.
func (s *Service) rebuild(ctx context.Context) error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	conn := s.connection()
	sets, err := s.store.RefSets(ctx, conn)
	if err != nil {
		return err
	}
	items, err := s.store.AllRefItems(ctx, conn)
	if err != nil {
		return err
	}
	s.resolver.Store(buildResolver(conn, sets, items, s.cfg.Now()))
	return nil
}

// Sets lists every set of the live connection, in a stable display order
// (business types, statuses, fields, options, trees, members). The sets
// every platform has are listed even before their first load.
func (s *Service) Sets(ctx context.Context) ([]SetInfo, error) {
	conn := s.connection()
	rows, err := s.store.RefSets(ctx, conn)
	if err != nil {
		return nil, err
	}
	changes, err := s.store.LatestRefChanges(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows = withFixed(rows, conn)
	r := s.Resolver()
	if r.connection != conn {
		r = emptyResolver(conn) // the switch is being handled: names of another platform would be wrong
	}
	out := make([]SetInfo, len(rows))
	for i, row := range rows {
		out[i] = s.info(row, changes, r)
	}
	slices.SortFunc(out, func(a, b SetInfo) int { return compareSets(r, a, b) })
	return out, nil
}

// withFixed adds the sets every platform has, as never loaded, when the
// connection has no row for them yet.
func withFixed(rows []db.RefSet, conn string) []db.RefSet {
	for _, sp := range fixedSpecs() {
		if !slices.ContainsFunc(rows, func(r db.RefSet) bool { return r.Key == sp.Key }) {
			rows = append(rows, sp.row(conn))
		}
	}
	return rows
}

func (s *Service) info(row db.RefSet, changes map[string]db.RefChange, r *Resolver) SetInfo {
	in := SetInfo{Key: row.Key, Kind: row.Kind, Object: row.Object, Scope: row.Scope, ScopeName: r.scopeName(row),
		Count: row.ItemCount, FetchedAt: unixTime(row.FetchedAt), LastAttemptAt: unixTime(row.LastAttemptAt),
		LastError: row.LastError, LastErr: decodeError(row.LastError, row.LastErrorDetail)}
	in.Stale = s.stale(row, s.cfg.Now())
	if c, ok := changes[row.Key]; ok {
		in.LastChange = toChange(c)
	}
	return in
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func toChange(c db.RefChange) *Change {
	conv := func(l []db.RefItemChange) []ItemChange {
		out := make([]ItemChange, len(l))
		for i, e := range l {
			out[i] = ItemChange(e)
		}
		return out
	}
	return &Change{At: time.Unix(c.At, 0), Added: conv(c.Added), Renamed: conv(c.Renamed), Removed: conv(c.Removed)}
}

// stale reports a set never loaded or older than the TTL.
func (s *Service) stale(row db.RefSet, now time.Time) bool {
	return row.FetchedAt == 0 || now.Sub(time.Unix(row.FetchedAt, 0)) > s.cfg.TTL
}

// kindOrder is the display order of the kinds.
var kindOrder = []string{KindBusinessTypes, KindStatuses, KindFields, KindOptions, KindOptionTree, KindMembers}

// compareSets orders sets by kind, object, then the place of their scope
// (business type or field) on the platform, then key.
func compareSets(r *Resolver, a, b SetInfo) int {
	return cmp.Or(
		cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)),
		cmp.Compare(objectRank(a.Object), objectRank(b.Object)),
		cmp.Compare(r.scopeRank(a), r.scopeRank(b)),
		cmp.Compare(a.Key, b.Key))
}

func objectRank(o string) int {
	if i := slices.Index(objects, o); i >= 0 {
		return i
	}
	return len(objects)
}

// scopeRank is the position of a set's business type or field on the platform.
func (r *Resolver) scopeRank(in SetInfo) int {
	var i int
	switch in.Kind {
	case KindStatuses, KindFields:
		i = slices.IndexFunc(r.btLists[in.Object], func(it Item) bool { return it.ID == in.Scope })
	case KindOptions, KindOptionTree:
		i = slices.IndexFunc(r.Fields(in.Object, ""), func(it Item) bool { return it.ID == in.Scope })
	}
	if i < 0 {
		return 1 << 30
	}
	return i
}

// scopeName is the name of a set's business type or field, "" when not known.
func (r *Resolver) scopeName(row db.RefSet) string {
	switch row.Kind {
	case KindStatuses, KindFields:
		return r.businessTypes[pair{row.Object, row.Scope}].zh
	case KindOptions, KindOptionTree:
		f, _ := r.FieldMeta(row.Object, "", row.Scope)
		return f.Name
	}
	return ""
}

// Items returns a set's items in order (none for a set not loaded yet).
func (s *Service) Items(ctx context.Context, key string) ([]Item, error) {
	rows, err := s.store.RefItems(ctx, s.connection(), key)
	if errors.Is(err, db.ErrNotFound) {
		if isFixed(key) {
			return nil, nil
		}
		return nil, fmt.Errorf("refdata: set %q: %w", key, ErrUnknownSet)
	}
	if err != nil {
		return nil, err
	}
	return toItems(rows), nil
}

func isFixed(key string) bool {
	return slices.ContainsFunc(fixedSpecs(), func(sp spec) bool { return sp.Key == key })
}

// Tree returns an option_tree set as a tree.
func (s *Service) Tree(ctx context.Context, key string) ([]*TreeNode, error) {
	items, err := s.Items(ctx, key)
	if err != nil {
		return nil, err
	}
	roots, _ := linkTree(items)
	return roots, nil
}

// linkTree links nodes listed in pre-order with their parent's id; a node
// whose parent is missing becomes a root.
func linkTree(items []Item) (roots []*TreeNode, byID map[string]*TreeNode) {
	byID = make(map[string]*TreeNode, len(items))
	for _, it := range items {
		n := &TreeNode{Item: it}
		byID[it.ID] = n
		if parent, ok := byID[it.ParentID]; ok {
			parent.Children = append(parent.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	return roots, byID
}

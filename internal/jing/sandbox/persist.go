package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// stateSaveDelay is how long a change waits before it is saved, so a burst
// of changes costs one save.
const stateSaveDelay = 5 * time.Second

// stateStore keeps the tenant in a JSON file (Config.StatePath) across
// restarts: loaded by New, saved a little after changes and on stop.
type stateStore struct {
	path  string
	log   *slog.Logger
	delay time.Duration
	// readOnly is set when the file could not be read nor moved aside
	// (saving over it would lose it), or when it belongs to another
	// process (Config.ReadOnlyState).
	readOnly bool

	dirty   atomic.Bool
	changed chan struct{} // a buffered doorbell: something changed
	saveMu  sync.Mutex    // one save at a time
}

// newStateStore is nil without a path: nothing is persisted. A read-only
// store loads the file and never writes it.
func newStateStore(path string, readOnly bool, log *slog.Logger) *stateStore {
	if path == "" {
		return nil
	}
	return &stateStore{path: path, log: log, delay: stateSaveDelay, changed: make(chan struct{}, 1), readOnly: readOnly}
}

// loadOrSeed is the saved tenant when there is one, else a freshly seeded
// one. A file that does not load is kept beside as <path>.broken (never
// lost silently) and the tenant is seeded afresh.
func (st *stateStore) loadOrSeed(cfg Config) *tenant {
	if st == nil {
		return seedTenant(cfg)
	}
	t, err := st.load()
	switch {
	case err == nil:
		return t
	case errors.Is(err, fs.ErrNotExist):
		// Seeding is deterministic and faster than loading: nothing to
		// save until something changes.
		return seedTenant(cfg)
	}
	if st.readOnly { // not ours to move aside
		st.log.Warn("sandbox: state file did not load; using a fresh tenant", "path", st.path, "error", err)
		return seedTenant(cfg)
	}
	st.quarantine(err)
	st.dirty.Store(true) // replace the broken file with a good one
	return seedTenant(cfg)
}

func (st *stateStore) load() (*tenant, error) {
	f, err := os.Open(st.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &tenant{}
	if err := decodeStream(bufio.NewReaderSize(f, 64<<10), t); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if t.MID == "" {
		return nil, errors.New("no tenant in the file")
	}
	t.afterLoad()
	return t, nil
}

// quarantine moves a file that failed to load out of the way.
func (st *stateStore) quarantine(cause error) {
	broken := st.path + ".broken"
	if _, err := os.Lstat(broken); err == nil { // keep the earlier one too
		broken = fmt.Sprintf("%s.%s.broken", st.path, time.Now().Format("20060102-150405.000"))
	}
	if err := os.Rename(st.path, broken); err != nil {
		st.readOnly = true
		st.log.Error("sandbox: state file unreadable and not movable; the sandbox runs on a fresh tenant and will not save",
			"path", st.path, "cause", cause, "error", err)
		return
	}
	st.log.Warn("sandbox: state file did not load; kept it aside and seeded a fresh tenant",
		"path", st.path, "kept_as", broken, "error", cause)
}

// stateLoader is implemented by parts of the tenant that keep derived
// data outside JSON (indexes, caches): afterLoad rebuilds it.
type stateLoader interface{ afterLoad() }

// afterLoad lets every part of the tenant that needs it rebuild what JSON does not carry.
func (t *tenant) afterLoad() {
	v := reflect.ValueOf(t).Elem()
	for i := range v.NumField() {
		if l, ok := v.Field(i).Addr().Interface().(stateLoader); ok {
			l.afterLoad()
		}
	}
}

// markChanged records that the tenant changed, so it is saved soon. Call
// it with s.mu held after a change that emits no webhook (emit calls it).
func (s *Server) markChanged() {
	st := s.state
	if st == nil {
		return
	}
	st.dirty.Store(true)
	select {
	case st.changed <- struct{}{}:
	default:
	}
}

// saveLoop saves the state st.delay after a change, until ctx ends.
func (s *Server) saveLoop(ctx context.Context) {
	st := s.state
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.changed:
		}
		if !sleepCtx(ctx, st.delay) {
			return
		}
		if err := s.saveState(); err != nil {
			s.log.Error("sandbox: saving state", "path", st.path, "error", err)
		}
	}
}

// saveState writes the tenant when it changed since the last save. The
// tenant is encoded under s.mu (a consistent snapshot) straight into the
// new file, a piece at a time (jsonstream.go), and made durable after.
func (s *Server) saveState() error {
	st := s.state
	if st == nil || st.readOnly {
		return nil
	}
	st.saveMu.Lock()
	defer st.saveMu.Unlock()
	if !st.dirty.Load() {
		return nil // unchanged: no temporary file made and removed each tick
	}
	f, err := createAtomic(st.path)
	if err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	s.mu.Lock()
	if !st.dirty.Swap(false) {
		s.mu.Unlock()
		f.abort()
		return nil
	}
	err = encodeStream(f, s.tenant)
	s.mu.Unlock()
	if err == nil {
		err = f.commit(0o600)
	} else {
		f.abort()
	}
	if err != nil {
		st.dirty.Store(true) // try again next time
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data: a reader sees the old file or
// the new one, never half of one, even after a crash.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.abort()
		return err
	}
	return f.commit(perm)
}

// atomicFile is a file written beside path under a temporary name and
// renamed over path once complete and synced (commit), or removed (abort).
type atomicFile struct {
	*bufio.Writer
	f    *os.File
	path string
}

func createAtomic(path string) (*atomicFile, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &atomicFile{Writer: bufio.NewWriterSize(f, 64<<10), f: f, path: path}, nil
}

func (a *atomicFile) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

func (a *atomicFile) commit(perm fs.FileMode) error {
	err := errors.Join(a.Flush(), a.f.Chmod(perm), a.f.Sync(), a.f.Close())
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(a.path)); err == nil { // make the rename itself durable
		d.Sync()
		d.Close()
	}
	return nil
}

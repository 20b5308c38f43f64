// Package perf builds the data that speed is measured on and measures it
// as a user meets it (issue 18): a console's local copy synced from a
// sandbox of n leads by the console's own services over real HTTP (the
// leads' fields, owners, pools, dates and scores as the platform gives
// them), kept in a cache directory because building 1,000,000 leads takes
// minutes; and the load harness of cmd/jingdesk-load.
package perf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/scores"
)

// datasetVersion names how a cached copy was built: change it when the
// building changes, so an older file is not taken for a new one.
const datasetVersion = 1

// Dataset describes a synced copy: the sandbox tenant it comes from.
type Dataset struct {
	Leads   int   // leads in the sandbox tenant
	Persons int   // persons in it (0: 20,000)
	Seed    int64 // the tenant's seed (0: 1)
}

// Credentials are those a console presents to the sandbox at url (the
// sandbox's defaults).
func Credentials(url string) jing.Credentials {
	return jing.Credentials{BaseURL: url, AppID: "sandbox", AppSecret: "sandbox"}
}

func (d Dataset) withDefaults() Dataset {
	if d.Persons <= 0 {
		d.Persons = 20_000
	}
	if d.Seed == 0 {
		d.Seed = 1
	}
	return d
}

// SandboxConfig is the sandbox tenant of d, with the endpoints a build
// calls lifted beyond the platform's pace and daily quota: a build is not
// a measurement of the platform's limits (the sync at the platform's
// pace is 10 pages a second, documented in docs/performance.md).
func (d Dataset) SandboxConfig() (sandbox.Config, error) {
	d = d.withDefaults()
	cat, err := BuildCatalog()
	if err != nil {
		return sandbox.Config{}, err
	}
	return sandbox.Config{Seed: d.Seed, Persons: d.Persons, Leads: d.Leads, Catalog: cat}, nil
}

// BuildCatalog is the default catalog with the lead and score endpoints
// lifted to 5,000 calls a second and 10,000,000 a day.
func BuildCatalog() (jing.Catalog, error) {
	rate, quota := 5000.0, 10_000_000
	over := map[string]jing.Override{}
	for _, e := range jing.DefaultCatalog().All() {
		if strings.HasPrefix(e.Key, "leads.") || strings.HasPrefix(e.Key, "scores.") {
			over[e.Key] = jing.Override{RatePerSecond: &rate, DailyQuota: &quota}
		}
	}
	return jing.DefaultCatalog().ApplyOverrides(over)
}

// CacheDir is where built copies are kept: $JINGDESK_PERF_CACHE, or
// jingdesk-perf in the user's cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("JINGDESK_PERF_CACHE"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "jingdesk-perf"), nil
}

// cacheName is the cached file of d synced from the sandbox at url at
// schema version m: its tenant, the sandbox's address (the copy belongs
// to that connection: a console connected elsewhere would clear it), how
// it was built and the schema it was built with.
func (d Dataset) cacheName(url string, m int) string {
	d = d.withDefaults()
	at := strings.NewReplacer("://", "_", "/", "_", ":", "_").Replace(url)
	return fmt.Sprintf("leads-%d-persons-%d-seed-%d-%s-v%d-m%d.db", d.Leads, d.Persons, d.Seed, at, datasetVersion, m)
}

// cached is the cached copy of d at the newest schema version this build
// opens (the console migrates an older one as it opens it), or the name
// to build at the current version.
func (d Dataset) cached(dir, url string) (path string, found bool) {
	for m := db.SchemaVersion(); m > 0; m-- {
		p := filepath.Join(dir, d.cacheName(url, m))
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return filepath.Join(dir, d.cacheName(url, db.SchemaVersion())), false
}

// Copy puts a synced copy of d at path (a database file that must not
// exist): the cached one when there is one, otherwise one built now from
// the sandbox at sandboxURL (which must hold d's tenant) and then cached.
// It reports whether it was built.
func Copy(ctx context.Context, d Dataset, sandboxURL, path string, log *slog.Logger) (built bool, err error) {
	dir, err := CacheDir()
	if err != nil {
		return false, err
	}
	cached, found := d.cached(dir, sandboxURL)
	return copyCached(cached, found, path, func(tmp string) error { return Build(ctx, d, sandboxURL, tmp, log) })
}

// copyCached copies the cached file to path, building it first with
// build (into a temporary file, renamed when complete) unless found.
func copyCached(cached string, found bool, path string, build func(tmp string) error) (built bool, err error) {
	if !found {
		if err := os.MkdirAll(filepath.Dir(cached), 0o700); err != nil {
			return false, err
		}
		tmp := cached + ".building"
		removeDB(tmp)
		if err := build(tmp); err != nil {
			removeDB(tmp)
			return false, err
		}
		if err := os.Rename(tmp, cached); err != nil {
			return false, err
		}
		built = true
	}
	return built, copyFile(cached, path)
}

// Build syncs d's leads from the sandbox at sandboxURL into a new
// database at path with the console's lead sync (a full sync, pages of
// 100), then fetches every lead's identity, activity and intention scores
// with the console's score fetch, as a console connected to that
// platform does in its first hour. Its planner statistics are gathered
// and the file checkpointed (no -wal left).
func Build(ctx context.Context, d Dataset, sandboxURL, path string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cat, err := BuildCatalog()
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	creds := Credentials(sandboxURL)
	client, err := jing.New(jing.Config{Credentials: creds, Catalog: cat, Logger: log})
	if err != nil {
		return err
	}
	plat := fixedPlatform{client: client, name: platform.ConnectionName(creds)}
	runner := jobs.New(store, jobs.Config{Logger: log, Poll: 100 * time.Millisecond, Sole: true})
	leadSvc, err := leads.New(leads.Config{Store: store, Platform: plat, Runner: runner, Logger: log})
	if err != nil {
		return err
	}
	scoreSvc, err := scores.New(scores.Config{Store: store, Platform: plat, Runner: runner, Logger: log})
	if err != nil {
		return err
	}
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runner.Stop(stop)
	}()
	start := time.Now()
	id, err := leadSvc.RequestSync(ctx, 0, true)
	if err != nil {
		return err
	}
	if err := waitJob(ctx, store, id); err != nil {
		return fmt.Errorf("lead sync: %w", err)
	}
	log.Info("leads synced", "leads", d.Leads, "took", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if id, err = scoreSvc.RequestFetch(ctx, 0, db.ScorePopulation{}, scores.Kinds, scores.DefaultMaxAge); err != nil {
		return err
	}
	if err := waitJob(ctx, store, id); err != nil {
		return fmt.Errorf("score fetch: %w", err)
	}
	log.Info("scores fetched", "took", time.Since(start).Round(time.Millisecond))
	n, err := store.CountLeads(ctx)
	if err != nil {
		return err
	}
	if n != d.Leads {
		return fmt.Errorf("perf: the copy holds %d leads, the sandbox %d", n, d.Leads)
	}
	if err := store.Optimize(ctx); err != nil {
		return err
	}
	return store.Checkpoint(ctx)
}

// fixedPlatform is one live connection under a given name.
type fixedPlatform struct {
	client *jing.Client
	name   string
}

func (p fixedPlatform) Current() (*jing.Client, string) { return p.client, p.name }
func (p fixedPlatform) Changed() <-chan struct{}        { return nil }

// waitJob waits for job id to end, done.
func waitJob(ctx context.Context, store *db.Store, id int64) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		j, err := store.Job(ctx, id)
		if err != nil {
			return err
		}
		if !j.Active() {
			if j.State != db.JobDone {
				return fmt.Errorf("job %d ended %s: %s", id, j.State, j.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}

// copyFile copies a database file (checkpointed: no -wal beside it) to to.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

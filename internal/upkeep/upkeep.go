// Package upkeep keeps the database in shape while the console runs:
// on a schedule it deletes what only history needs once it is past its
// retention (each area's rule, in its own service) and then keeps the
// query planner's statistics current (db.Store.Optimize), so a console
// that grew from 1,000 to 100,000 leads since it started still picks the
// board's indexes well.
package upkeep

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"
)

// Every is how often the upkeep runs.
const Every = time.Hour

// FirstAfter is how long after the start the first run waits: the
// console's own start-up and its first syncs go first.
const FirstAfter = 2 * time.Minute

// Pruner deletes one kind of history past its retention.
type Pruner struct {
	What  string // for the log: "import rows", "score history"
	Prune func(ctx context.Context) (int64, error)
}

// Optimizer refreshes the planner's statistics (a *db.Store).
type Optimizer interface {
	Optimize(ctx context.Context) error
}

// Config is what Run keeps.
type Config struct {
	Store   Optimizer
	Pruners []Pruner
	Every   time.Duration // default Every
	First   time.Duration // default FirstAfter
	Logger  *slog.Logger
}

// Run does the upkeep FirstAfter the start and then every Every, until ctx ends.
func Run(ctx context.Context, cfg Config) {
	if cfg.Every <= 0 {
		cfg.Every = Every
	}
	if cfg.First <= 0 {
		cfg.First = FirstAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "upkeep")
	timer := time.NewTimer(cfg.First)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		Once(ctx, cfg.Store, cfg.Pruners, log)
		timer.Reset(cfg.Every)
	}
}

// Once prunes each kind of history, then refreshes the statistics (after
// the prunes, so they describe what is left). A failing step is logged and
// the others still run.
func Once(ctx context.Context, store Optimizer, pruners []Pruner, log *slog.Logger) {
	var deleted int64
	for _, p := range pruners {
		n, err := p.Prune(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("delete history past its retention", "what", p.What, "error", err)
		}
		if n > 0 {
			log.Info("deleted history past its retention", "what", p.What, "rows", n)
		}
		deleted += n
	}
	if err := store.Optimize(ctx); err != nil && ctx.Err() == nil {
		log.Error("refresh the query planner's statistics", "error", err)
	}
	if deleted > 0 {
		// A prune reads and frees many pages: hand the memory back.
		debug.FreeOSMemory()
	}
}

// AfterBigChange refreshes the planner's statistics after a change that
// moved a table's size a long way (a full lead sync, a big import), and
// hands back to the system the memory the change used: a console that
// just synced 100,000 leads holds tens of MB of free heap otherwise,
// which the runtime would return only slowly. A failure costs speed, not
// data: it is logged, not returned.
func AfterBigChange(ctx context.Context, store Optimizer, log *slog.Logger, what string) {
	if err := store.Optimize(ctx); err != nil && ctx.Err() == nil {
		log.Warn("refresh the query planner's statistics", "after", what, "error", err)
	}
	debug.FreeOSMemory()
}

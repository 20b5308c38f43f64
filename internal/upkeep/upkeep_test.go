package upkeep

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// calls records the upkeep's steps with the (bubble's) time they ran at.
type calls struct {
	mu    sync.Mutex
	start time.Time
	steps []string
}

func (c *calls) add(step string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, time.Since(c.start).Round(time.Second).String()+" "+step)
}

func (c *calls) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.steps)
}

func (c *calls) Optimize(context.Context) error { c.add("optimize"); return nil }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The upkeep runs a little after the start and then hourly: each prune,
// then the statistics; a failing prune does not stop the others nor the
// statistics; nothing runs after the stop.
func TestUpkeepPrunesThenRefreshesStatisticsOnItsSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &calls{start: time.Now()}
		pruners := []Pruner{
			{What: "import rows", Prune: func(context.Context) (int64, error) { c.add("imports"); return 0, errors.New("disk I/O error") }},
			{What: "score history", Prune: func(context.Context) (int64, error) { c.add("scores"); return 3, nil }},
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Run(ctx, Config{Store: c, Pruners: pruners, Logger: quiet()})
		}()
		time.Sleep(FirstAfter - time.Second)
		synctest.Wait()
		if got := c.all(); len(got) != 0 {
			t.Fatalf("ran before FirstAfter: %q", got)
		}
		time.Sleep(time.Second + 2*Every + time.Minute)
		synctest.Wait()
		want := []string{}
		for _, at := range []time.Duration{FirstAfter, FirstAfter + Every, FirstAfter + 2*Every} {
			for _, step := range []string{"imports", "scores", "optimize"} {
				want = append(want, at.String()+" "+step)
			}
		}
		if got := c.all(); !slices.Equal(got, want) {
			t.Fatalf("steps:\n%q\nwant\n%q", got, want)
		}
		cancel()
		<-done
		time.Sleep(2 * Every)
		synctest.Wait()
		if got := c.all(); len(got) != len(want) {
			t.Fatalf("ran after the stop: %q", got[len(want):])
		}
	})
}

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A component is one part of the running console. The console starts its
// components in the order of its list and stops the started ones in the
// reverse order, each once: nothing stops before what still uses it (the
// web server stops before the services its requests call, every service
// before the database).
type component struct {
	name string
	// start makes the part ready; ctx ends when a stop is asked for, so
	// start may give up early, but nothing that runs on may depend on it.
	// nil: nothing to start.
	start func(ctx context.Context) error
	// stop ends the part and returns once everything it ran has returned;
	// ctx bounds that wait. nil: nothing to stop.
	stop func(ctx context.Context) error
}

// lifecycle runs a list of components.
type lifecycle struct {
	log *slog.Logger
	// stopTimeout bounds each component's stop.
	stopTimeout time.Duration
	// observe, when set, hears "started NAME", "stopping NAME" and
	// "stopped NAME" as they happen (tests prove the order with it).
	observe func(event string)
}

// run starts the components in order and keeps them running until ctx
// ends or one of them reports on failed that it cannot go on; then it
// stops the started ones in reverse order. A component that fails to
// start is not stopped, the ones before it are. run returns what went
// wrong: a start, a failure, stops that did not finish in time.
func (l lifecycle) run(ctx context.Context, parts []component, failed <-chan error) error {
	started := 0
	var err error
	for _, p := range parts {
		if p.start != nil {
			if err = p.start(ctx); err != nil {
				break
			}
		}
		started++
		l.event("started " + p.name)
	}
	switch {
	case err == nil:
		select {
		case <-ctx.Done():
		case err = <-failed:
		}
	case ctx.Err() != nil:
		// A stop asked for while starting: the start gave up, nothing failed.
		l.log.Info("stop asked for while starting", "starting", parts[started].name, "error", err)
		err = nil
	}
	for i := started - 1; i >= 0; i-- {
		err = errors.Join(err, l.stop(parts[i]))
	}
	return err
}

// stop stops one component, waiting up to stopTimeout.
func (l lifecycle) stop(p component) error {
	if p.stop == nil {
		return nil
	}
	l.event("stopping " + p.name)
	ctx, cancel := context.WithTimeout(context.Background(), l.stopTimeout)
	defer cancel()
	began := time.Now()
	err := p.stop(ctx)
	l.event("stopped " + p.name)
	if err != nil {
		l.log.Warn("part did not stop cleanly", "part", p.name, "error", err)
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	l.log.Debug("part stopped", "part", p.name, "took", time.Since(began))
	return nil
}

func (l lifecycle) event(e string) {
	if l.observe != nil {
		l.observe(e)
	}
}

// background is a component that runs fn on a goroutine of its own: stop
// cancels fn's context and waits for fn to return.
func background(name string, fn func(ctx context.Context)) component {
	var cancel context.CancelFunc
	done := make(chan struct{})
	return component{
		name: name,
		start: func(context.Context) error {
			var ctx context.Context
			ctx, cancel = context.WithCancel(context.Background())
			go func() {
				defer close(done)
				fn(ctx)
			}()
			return nil
		},
		stop: func(ctx context.Context) error {
			cancel()
			return wait(ctx, done)
		},
	}
}

// waitFor makes a Stop that waits without a bound into a component's stop.
func waitFor(stop func()) func(context.Context) error {
	return func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			stop()
		}()
		return wait(ctx, done)
	}
}

// errStillRunning: a part's goroutine had not returned when its stop's time ran out.
var errStillRunning = errors.New("still running when the shutdown timeout ended")

// wait waits for done, up to ctx.
func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errStillRunning
	}
}

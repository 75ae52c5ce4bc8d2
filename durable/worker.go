package durable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// WorkerOptions configures a Worker. Zero values take Durable Functions'
// defaults.
type WorkerOptions struct {
	Logger *slog.Logger
	// MaxConcurrentOrchestrations bounds episodes run at once
	// (maxConcurrentOrchestratorFunctions; default 10 × CPUs).
	MaxConcurrentOrchestrations int
	// MaxConcurrentActivities bounds activities run at once
	// (maxConcurrentActivityFunctions; default 10 × CPUs).
	MaxConcurrentActivities int
	// ActivityRenewInterval is how often a running activity's work item
	// is kept invisible (default 30 s, as DurableTask.Core); keep it well
	// under the work-item visibility timeout.
	ActivityRenewInterval time.Duration
	// Versioning, when set, applies Durable Functions' orchestration
	// versioning settings (see Versioning).
	Versioning *Versioning
	// ExtendedSessions keeps orchestrators in memory between episodes, so
	// an instance's next episode continues where the last one stopped
	// instead of replaying its history (extendedSessionsEnabled).
	ExtendedSessions bool
	// ExtendedSessionIdleTimeout closes a session that got no work for
	// this long (extendedSessionIdleTimeoutInSeconds; default 30 s).
	ExtendedSessionIdleTimeout time.Duration
	// OrchestratorStepLimit bounds how long orchestrator code may run
	// between two awaits (or until it returns): a step that blocks longer
	// (a mutex, a channel, time.Sleep, I/O) fails the instance with
	// ErrorTypeBlocked instead of holding a worker slot forever. Default
	// 1 minute; negative disables the limit.
	OrchestratorStepLimit time.Duration
	// StoreInputsInOrchestrationHistory keeps the inputs of activity and
	// sub-orchestration calls in the orchestration's history
	// (storeInputsInOrchestrationHistory). By default, as in Durable
	// Functions, TaskScheduled and SubOrchestrationInstanceCreated events
	// have no input: only the messages that start the calls carry it.
	StoreInputsInOrchestrationHistory bool
	// EntityMessageReorderWindow is how long entities keep what orders
	// and deduplicates the requests they receive: the senders' clocks and
	// the ids of client signals (entityMessageReorderWindowInMinutes;
	// default 30 minutes).
	EntityMessageReorderWindow time.Duration
	// Clock, when set, replaces the wall clock as the time of episodes
	// (CurrentUTCDateTime, timer due times) and of activity results.
	// Package durabletest sets it to a virtual clock.
	Clock func() time.Time
}

// Worker runs the app's orchestrators and activities against a backend:
// it fetches work items, replays orchestrations, runs activities and
// commits the results.
type Worker struct {
	be    backend.Backend
	reg   *Registry
	log   *slog.Logger
	opts  WorkerOptions
	newID func() string
	clock func() time.Time
	// sessions keeps orchestrators in memory (ExtendedSessions); nil
	// when extended sessions are off.
	sessions *sessionCache
}

// NewWorker returns a worker for the functions in reg.
func NewWorker(be backend.Backend, reg *Registry, opts WorkerOptions) *Worker {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxConcurrentOrchestrations <= 0 {
		opts.MaxConcurrentOrchestrations = 10 * runtime.NumCPU()
	}
	if opts.MaxConcurrentActivities <= 0 {
		opts.MaxConcurrentActivities = 10 * runtime.NumCPU()
	}
	if opts.ActivityRenewInterval <= 0 {
		opts.ActivityRenewInterval = 30 * time.Second
	}
	switch {
	case opts.OrchestratorStepLimit == 0:
		opts.OrchestratorStepLimit = time.Minute
	case opts.OrchestratorStepLimit < 0:
		opts.OrchestratorStepLimit = 0
	}
	if opts.EntityMessageReorderWindow <= 0 {
		opts.EntityMessageReorderWindow = defaultReorderWindow
	}
	clock := func() time.Time { return time.Now().UTC() }
	if opts.Clock != nil {
		clock = func() time.Time { return opts.Clock().UTC() }
	}
	w := &Worker{be: be, reg: reg, log: opts.Logger, opts: opts, newID: NewInstanceID, clock: clock}
	if opts.ExtendedSessions {
		if opts.ExtendedSessionIdleTimeout <= 0 {
			w.opts.ExtendedSessionIdleTimeout = 30 * time.Second
		}
		w.sessions = newSessionCache(w.opts.ExtendedSessionIdleTimeout)
	}
	return w
}

// Run starts the backend and processes work until ctx is canceled, then
// waits for running work to finish and stops the backend (releasing what
// this worker owns). It returns nil after a clean stop. At start it logs a
// warning for each function declared with NewActivity, NewOrchestrator or
// NewEntity that the registry lacks.
func (w *Worker) Run(ctx context.Context) error {
	warnUnregistered(w.log, w.reg)
	if err := w.be.Start(ctx); err != nil {
		return fmt.Errorf("durable: start backend: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		w.loop(ctx, "orchestration", w.opts.MaxConcurrentOrchestrations, w.nextOrchestration)
	}()
	go func() {
		defer wg.Done()
		w.loop(ctx, "activity", w.opts.MaxConcurrentActivities, w.nextActivity)
	}()
	if w.sessions != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(w.opts.ExtendedSessionIdleTimeout / 2)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					w.sessions.sweep()
				}
			}
		}()
	}
	wg.Wait()
	w.sessions.closeAll()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.be.Stop(stopCtx); err != nil {
		return fmt.Errorf("durable: stop backend: %w", err)
	}
	return nil
}

// loop fetches work items one at a time and processes up to limit of them
// concurrently. fetch returns the processing function of one work item.
func (w *Worker) loop(ctx context.Context, kind string, limit int, fetch func(context.Context) (func(context.Context), error)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		process, err := fetch(ctx)
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return
			}
			failures++
			delay := min(time.Duration(failures)*100*time.Millisecond, 5*time.Second)
			w.log.Warn("fetching work failed; retrying", "kind", kind, "error", err, "retryIn", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
			continue
		}
		failures = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Work in flight finishes even when the worker is stopping,
			// so its results are not lost.
			process(context.WithoutCancel(ctx))
		}()
	}
}

func (w *Worker) nextOrchestration(ctx context.Context) (func(context.Context), error) {
	wi, err := w.be.FetchOrchestrationWorkItem(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) { w.processOrchestration(ctx, wi) }, nil
}

func (w *Worker) nextActivity(ctx context.Context) (func(context.Context), error) {
	wi, err := w.be.FetchActivityWorkItem(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) { w.processActivity(ctx, wi) }, nil
}

// abandonDelay is the retry delay after a failed commit.
func abandonDelay(err error) time.Duration {
	if errors.Is(err, backend.ErrConflict) {
		return 0
	}
	return time.Second
}

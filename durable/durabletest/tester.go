// Package durabletest runs orchestrations, activities and entities in unit
// tests: synchronously, in process, on a virtual clock, with the real
// engine.
//
// A Tester drives durable's own Worker over an in-memory backend
// (package memory) one work item at a time, on the test's goroutine: no
// storage, no background goroutines, nothing left running when the test
// ends. Orchestrations replay their history on every episode exactly as
// in production, so code that is not deterministic fails in the test.
//
// Time is virtual. It stands still while work is runnable and jumps to the
// next timer, scheduled start or scheduled entity signal when nothing else
// can happen, so a 30-day timer takes microseconds; CurrentUTCDateTime
// follows it, and a test moves it explicitly with Advance or schedules
// its own actions on it with After and At.
//
// Activities and sub-orchestrators run for real, or are mocked by name
// (OnActivity, OnSubOrchestrator) with a value, an error or a function;
// mocks count their calls and keep their inputs.
//
//	func TestApprovalTimesOut(t *testing.T) {
//		tt := durabletest.New(t, registry)
//		inst := tt.Execute("Approval", ApprovalInput{TimeoutSeconds: 72 * 3600})
//		if got := durabletest.Output[string](inst); got != "timed out" {
//			t.Fatalf("got %q", got)
//		}
//	}
//
// Replay checks a stored history against the current code in a test (see
// package replaycheck for the checks before a deployment).
package durabletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/memory"
	"github.com/godurable/functions/durable/replay"
)

// DefaultStartTime is the virtual time a Tester starts at, unless
// WithStartTime says otherwise.
var DefaultStartTime = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

// Option configures a Tester.
type Option func(*config)

type config struct {
	start    time.Time
	logger   *slog.Logger
	maxSteps int
}

// WithStartTime sets the virtual time the test begins at.
func WithStartTime(t time.Time) Option { return func(c *config) { c.start = t.UTC() } }

// WithLogger sends the engine's and the orchestrations' logs to l
// (default: warnings and errors to the test's log, shown when it fails or
// with -v).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMaxSteps bounds how many work items one call (Execute, RunUntilDone,
// Advance, RunUntilIdle) may process before the test fails as a runaway
// (default 10000).
func WithMaxSteps(n int) Option { return func(c *config) { c.maxSteps = n } }

// Tester runs a registry's functions for one test. It is not safe for
// concurrent use; use it from the test's goroutine.
type Tester struct {
	t      testing.TB
	reg    *durable.Registry
	be     *memory.Backend
	worker *durable.Worker
	client *durable.Client
	cfg    config
	now    time.Time

	activityMocks map[string]*Mock
	orchMocks     map[string]*Mock
	callbacks     []*callback
	seq           int
	ids           map[string]int
	inCallback    bool
}

type callback struct {
	at  time.Time
	seq int
	fn  func()
}

// New returns a Tester for the functions registered in reg.
func New(t testing.TB, reg *durable.Registry, opts ...Option) *Tester {
	t.Helper()
	if reg == nil {
		t.Fatal("durabletest: New needs a registry (durable.NewRegistry with your functions added)")
	}
	cfg := config{start: DefaultStartTime, maxSteps: 10000}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	tt := &Tester{t: t, reg: reg, cfg: cfg, now: cfg.start,
		activityMocks: map[string]*Mock{}, orchMocks: map[string]*Mock{}, ids: map[string]int{}}
	tt.be = memory.New(memory.Options{Clock: func() time.Time { return tt.now }, StampArrivals: true})
	tt.worker = durable.NewWorker(&observer{Backend: tt.be, tt: tt}, reg, durable.WorkerOptions{
		Logger: cfg.logger, Clock: func() time.Time { return tt.now },
		MaxConcurrentOrchestrations: 1, MaxConcurrentActivities: 1, ActivityRenewInterval: time.Hour,
	})
	tt.client = durable.NewClient(tt.be, nil, durable.WithTaskHubName("durabletest"))
	return tt
}

// Now is the virtual time.
func (tt *Tester) Now() time.Time { return tt.now }

// Client is a client of the Tester's task hub, for anything the Tester has
// no shortcut for (ListInstances, Purge, Restart…). Work it causes runs on
// the next RunUntilIdle, RunUntilDone, Execute or Advance.
func (tt *Tester) Client() *durable.Client { return tt.client }

// Backend is the in-memory backend the Tester drives.
func (tt *Tester) Backend() *memory.Backend { return tt.be }

// Start schedules an orchestration with an input (nil for none) and
// returns its instance without running it. Its instance id is
// "{name}-{n}" unless durable.WithInstanceID says otherwise.
func (tt *Tester) Start(name string, input any, opts ...durable.StartOption) *Instance {
	tt.t.Helper()
	if !tt.reg.HasOrchestrator(name) && tt.orchMocks[strings.ToLower(name)] == nil {
		tt.t.Fatalf("durabletest: Start(%q): no orchestrator is registered under that name (names match case-insensitively)", name)
	}
	tt.ids[strings.ToLower(name)]++
	id := fmt.Sprintf("%s-%d", name, tt.ids[strings.ToLower(name)])
	opts = append([]durable.StartOption{durable.WithInstanceID(id)}, opts...)
	got, err := tt.client.StartNew(context.Background(), name, input, opts...)
	if err != nil {
		tt.t.Fatalf("durabletest: Start(%q): %v", name, err)
	}
	return &Instance{tt: tt, id: got, name: name}
}

// Execute starts an orchestration and runs it until it finishes or nothing
// more can happen (it waits for an event nobody will raise), skipping
// virtual time from timer to timer.
func (tt *Tester) Execute(name string, input any, opts ...durable.StartOption) *Instance {
	tt.t.Helper()
	inst := tt.Start(name, input, opts...)
	tt.RunUntilDone(inst)
	return inst
}

// RunUntilIdle processes all work that is ready at the current virtual
// time, including the callbacks due now; time does not move.
func (tt *Tester) RunUntilIdle() {
	tt.t.Helper()
	steps := 0
	tt.drain(&steps)
}

// RunUntilDone processes work, jumping virtual time to the next timer or
// callback whenever nothing is runnable, until inst has finished
// (Completed, Failed, Terminated) or nothing more can happen.
func (tt *Tester) RunUntilDone(inst *Instance) {
	tt.t.Helper()
	steps := 0
	for {
		tt.drain(&steps)
		if inst.IsDone() {
			return
		}
		next, ok := tt.next()
		if !ok {
			return
		}
		tt.setNow(next)
	}
}

// Advance moves virtual time forward by d, processing work, timers and
// callbacks in time order on the way.
func (tt *Tester) Advance(d time.Duration) {
	tt.t.Helper()
	if d < 0 {
		tt.t.Fatalf("durabletest: Advance(%v): time only moves forward", d)
	}
	target := tt.now.Add(d)
	steps := 0
	for {
		tt.drain(&steps)
		next, ok := tt.next()
		if !ok || next.After(target) {
			tt.setNow(target)
			tt.drain(&steps)
			return
		}
		tt.setNow(next)
	}
}

// After runs fn when virtual time reaches now+d (fn may raise events,
// signal entities, terminate instances…).
func (tt *Tester) After(d time.Duration, fn func()) { tt.At(tt.now.Add(d), fn) }

// At runs fn when virtual time reaches t (at once, on the next run, if t
// has passed).
func (tt *Tester) At(t time.Time, fn func()) {
	tt.seq++
	tt.callbacks = append(tt.callbacks, &callback{at: t.UTC(), seq: tt.seq, fn: fn})
	sort.SliceStable(tt.callbacks, func(i, j int) bool { return tt.callbacks[i].at.Before(tt.callbacks[j].at) })
}

// SignalEntity sends an entity a one-way operation, now.
func (tt *Tester) SignalEntity(id durable.EntityID, operation string, input any) {
	tt.t.Helper()
	if err := tt.client.SignalEntity(context.Background(), id, operation, input); err != nil {
		tt.t.Fatalf("durabletest: SignalEntity(%s, %q): %v", id, operation, err)
	}
}

// SignalEntityAfter sends the signal when virtual time reaches now+d.
func (tt *Tester) SignalEntityAfter(d time.Duration, id durable.EntityID, operation string, input any) {
	tt.After(d, func() { tt.SignalEntity(id, operation, input) })
}

// EntityState reads an entity's state; ok is false when the entity does
// not exist (never signaled, or deleted).
func EntityState[T any](tt *Tester, id durable.EntityID) (state T, ok bool) {
	tt.t.Helper()
	md, err := tt.client.GetEntity(context.Background(), id)
	if errors.Is(err, durable.ErrInstanceNotFound) {
		return state, false
	}
	if err != nil {
		tt.t.Fatalf("durabletest: entity %s: %v", id, err)
	}
	if err := json.Unmarshal([]byte(history.Deref(md.State)), &state); err != nil {
		tt.t.Fatalf("durabletest: the state of entity %s is %s, which does not decode into %T: %v", id, history.Deref(md.State), state, err)
	}
	return state, true
}

// Instance returns the instance with the given id (a sub-orchestration's,
// for example), whether or not it exists yet.
func (tt *Tester) Instance(id string) *Instance { return &Instance{tt: tt, id: id} }

func (tt *Tester) setNow(t time.Time) {
	if t.After(tt.now) {
		tt.now = t
	}
	tt.be.Notify()
}

// next is the time of the next timer, delayed message or callback.
func (tt *Tester) next() (time.Time, bool) {
	t, ok := tt.be.NextDue()
	if len(tt.callbacks) > 0 && (!ok || tt.callbacks[0].at.Before(t)) {
		t, ok = tt.callbacks[0].at, true
	}
	return t, ok
}

// drain processes work that is ready now: due callbacks first, then every
// ready activity (so that their results reach an orchestration in one
// episode, as a fan-in does), then one orchestration work item, again.
func (tt *Tester) drain(steps *int) {
	tt.t.Helper()
	if tt.inCallback {
		tt.t.Fatal("durabletest: a callback must not run the Tester (RunUntilIdle, RunUntilDone, Execute, Advance); it only raises, signals or starts")
	}
	for {
		if *steps > tt.cfg.maxSteps {
			tt.t.Fatalf("durabletest: still busy after %d work items at virtual time %s: an orchestration loops without end "+
				"(an eternal orchestration needs Advance rather than RunUntilDone; WithMaxSteps raises the limit)", tt.cfg.maxSteps, tt.now.Format(time.RFC3339))
		}
		if len(tt.callbacks) > 0 && !tt.callbacks[0].at.After(tt.now) {
			cb := tt.callbacks[0]
			tt.callbacks = tt.callbacks[1:]
			tt.inCallback = true
			cb.fn()
			tt.inCallback = false
			continue
		}
		ran := false
		for aw := tt.be.TryFetchActivityWorkItem(); aw != nil; aw = tt.be.TryFetchActivityWorkItem() {
			*steps++
			tt.runActivity(aw)
			ran = true
		}
		if wi := tt.be.TryFetchOrchestrationWorkItem(); wi != nil {
			*steps++
			tt.runOrchestration(wi)
			ran = true
		}
		if !ran {
			return
		}
	}
}

func (tt *Tester) runActivity(aw *backend.ActivityWorkItem) {
	tt.t.Helper()
	m := tt.activityMocks[strings.ToLower(aw.Scheduled.Name)]
	if m == nil {
		tt.worker.ProcessActivityWorkItem(context.Background(), aw)
		return
	}
	input, err := activityInput(aw.Scheduled.Input)
	if err != nil {
		tt.t.Fatalf("durabletest: the input of activity %q from %s: %v", aw.Scheduled.Name, aw.Instance.InstanceID, err)
	}
	out, ferr := m.call(tt, input)
	res := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: tt.now, TaskScheduledID: aw.Scheduled.EventID, Result: out}
	if ferr != nil {
		reason := ferr.ErrorMessage
		res = &history.Event{Type: history.TaskFailed, EventID: -1, Timestamp: tt.now, TaskScheduledID: aw.Scheduled.EventID, Reason: &reason, Failure: ferr}
	}
	finish := func() {
		if err := tt.be.CompleteActivityWorkItem(context.Background(), aw, res); err != nil {
			tt.t.Fatalf("durabletest: completing mocked activity %q: %v", aw.Scheduled.Name, err)
		}
	}
	m.mu.Lock()
	delay := m.delay
	m.mu.Unlock()
	if delay > 0 {
		res.Timestamp = tt.now.Add(delay)
		tt.After(delay, finish) // the work item stays taken until then
		return
	}
	finish()
}

// activityInput unwraps Durable Functions' one-element input array.
func activityInput(in *string) (json.RawMessage, error) {
	if in == nil {
		return nil, nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(*in), &arr); err == nil && len(arr) <= 1 {
		if len(arr) == 0 || string(arr[0]) == "null" {
			return nil, nil
		}
		return arr[0], nil
	}
	if !json.Valid([]byte(*in)) {
		return nil, fmt.Errorf("%q is not JSON", *in)
	}
	return json.RawMessage(*in), nil
}

func (tt *Tester) runOrchestration(wi *backend.OrchestrationWorkItem) {
	tt.t.Helper()
	for _, e := range wi.NewEvents {
		if e.Type != history.ExecutionStarted {
			continue
		}
		if m := tt.orchMocks[strings.ToLower(e.Name)]; m != nil {
			tt.completeMocked(wi, e, m)
			return
		}
		if !tt.reg.HasOrchestrator(e.Name) {
			tt.t.Errorf("durabletest: instance %s starts orchestrator %q, which is neither registered nor mocked (OnSubOrchestrator)", wi.InstanceID, e.Name)
		}
	}
	tt.worker.ProcessOrchestrationWorkItem(context.Background(), wi)
}

// completeMocked finishes a mocked orchestration in one episode and
// answers its parent, as the engine would.
func (tt *Tester) completeMocked(wi *backend.OrchestrationWorkItem, start *history.Event, m *Mock) {
	tt.t.Helper()
	var input json.RawMessage
	if start.Input != nil && *start.Input != "null" {
		input = json.RawMessage(*start.Input)
	}
	out, f := m.call(tt, input)
	now := tt.now
	done := &history.Event{Type: history.ExecutionCompleted, EventID: 0, Timestamp: now, OrchestrationStatus: history.StatusCompleted, Result: out}
	state := backend.InstanceUpdate{RuntimeStatus: history.StatusCompleted, Output: out, CompletedTime: now}
	if f != nil {
		msg := "Orchestrator function '" + start.Name + "' failed: " + f.ErrorMessage
		done = &history.Event{Type: history.ExecutionCompleted, EventID: 0, Timestamp: now, OrchestrationStatus: history.StatusFailed, Result: &msg, Failure: f}
		state = backend.InstanceUpdate{RuntimeStatus: history.StatusFailed, Output: &msg, CompletedTime: now}
	}
	cp := &backend.Checkpoint{State: state, NewEvents: append(append([]*history.Event{{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}},
		wi.NewEvents...), done, &history.Event{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: now})}
	if p := start.Parent; p != nil {
		notice := &history.Event{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, Timestamp: now, TaskScheduledID: p.TaskScheduleID, Result: out}
		if f != nil {
			reason := f.ErrorMessage
			notice = &history.Event{Type: history.SubOrchestrationInstanceFailed, EventID: -1, Timestamp: now, TaskScheduledID: p.TaskScheduleID, Reason: &reason, Failure: f}
		}
		cp.Outbound = []backend.OutboundMessage{{Event: notice, Target: p.Instance}}
	}
	if err := tt.be.CompleteOrchestrationWorkItem(context.Background(), wi, cp); err != nil {
		tt.t.Fatalf("durabletest: completing mocked orchestrator %q: %v", start.Name, err)
	}
}

// testLog writes log lines to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// observer is the backend the worker sees: the memory backend, with the
// test's own mistakes reported as they happen.
type observer struct {
	*memory.Backend
	tt *Tester
}

func (o *observer) CompleteActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem, result *history.Event) error {
	if result != nil && result.Failure != nil && result.Failure.ErrorType == "ActivityNotFound" {
		o.tt.t.Errorf("durabletest: instance %s calls activity %q, which is neither registered nor mocked (OnActivity)",
			wi.Instance.InstanceID, wi.Scheduled.Name)
	}
	return o.Backend.CompleteActivityWorkItem(ctx, wi, result)
}

func (o *observer) CompleteOrchestrationWorkItem(ctx context.Context, wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint) error {
	for _, e := range cp.NewEvents {
		if e.Type == history.ExecutionCompleted && e.Failure != nil && e.Failure.ErrorType == replay.NonDeterministicErrorType {
			o.tt.t.Errorf("durabletest: instance %s is not deterministic: replaying its own history took other actions: %s",
				wi.InstanceID, e.Failure.ErrorMessage)
		}
	}
	return o.Backend.CompleteOrchestrationWorkItem(ctx, wi, cp)
}

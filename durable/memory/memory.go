// Package memory is a complete durable backend held in process memory:
// orchestrations, activities, timers, external events, sub-orchestrations,
// continue-as-new, entities (signals, calls, locks), terminate, suspend,
// resume, rewind, queries and purge.
//
// It is NOT durable. Everything it holds is lost when the process ends,
// and it cannot be shared between processes. Use it for unit tests (package
// durabletest drives it with a virtual clock), for demos and for trying the
// programming model without storage; use package azstorage for real work.
//
// It keeps the same contract as the Azure Storage backend (both pass the
// suite in package backendtest): an instance is locked to one work item at
// a time, messages for an execution that is gone are dropped, a second
// result for the same call is dropped, timers and scheduled starts and
// scheduled entity signals become visible at their time on the backend's
// clock.
package memory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// Options configures a Backend.
type Options struct {
	// Clock is the backend's time: it decides when timers and delayed
	// messages become visible and stamps instance times. Default: the
	// wall clock (UTC). A test clock must call Backend.Notify after it
	// moves, so that blocked fetches look again.
	Clock func() time.Time
	// StampArrivals gives the events that clients send (CreateInstance,
	// SendEvent) the backend's clock as their timestamp, so that a test
	// on a virtual clock sees virtual times throughout the history.
	StampArrivals bool
}

// Backend is an in-memory backend.Backend. Create it with New; all methods
// are safe for concurrent use.
type Backend struct {
	clock func() time.Time
	stamp bool

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	instances map[string]*instance
	control   []*message // inbound orchestration messages, in send order
	work      []*activity
	locked    map[string]bool // instances with a work item in flight
	seq       int64
	started   bool
}

type instance struct {
	state   backend.InstanceState
	history []*history.Event
}

type message struct {
	seq       int64
	target    history.OrchestrationInstance
	sender    history.OrchestrationInstance
	event     *history.Event
	visibleAt time.Time
	dequeued  int
	inserted  time.Time
	taken     bool // part of a work item in flight
}

type activity struct {
	seq       int64
	instance  history.OrchestrationInstance
	scheduled *history.Event
	episode   int
	visibleAt time.Time
	dequeued  int
	taken     bool
}

// orchestrationItem is the provider state of an orchestration work item.
type orchestrationItem struct {
	messages []*message
	done     bool
}

var _ backend.Backend = (*Backend)(nil)

// New returns an empty in-memory task hub.
func New(opts Options) *Backend {
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return time.Now().UTC() }
	}
	return &Backend{
		clock:     opts.Clock,
		stamp:     opts.StampArrivals,
		changed:   make(chan struct{}),
		instances: map[string]*instance{},
		locked:    map[string]bool{},
	}
}

// Now is the backend's current time.
func (b *Backend) Now() time.Time { return b.clock().UTC() }

// Notify wakes blocked fetches so that they look for work again; call it
// after moving a test clock.
func (b *Backend) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notifyLocked()
}

func (b *Backend) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// CreateTaskHub implements backend.Backend; there is nothing to create.
func (b *Backend) CreateTaskHub(ctx context.Context) error { return nil }

// DeleteTaskHub implements backend.Backend: every instance, message and
// work item is forgotten.
func (b *Backend) DeleteTaskHub(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.instances = map[string]*instance{}
	b.control, b.work = nil, nil
	b.locked = map[string]bool{}
	b.notifyLocked()
	return nil
}

// Start implements backend.Backend. It may be called once.
func (b *Backend) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return errors.New("memory: backend already started")
	}
	b.started = true
	return nil
}

// Stop implements backend.Backend; work items in flight stay valid.
func (b *Backend) Stop(ctx context.Context) error { return nil }

// wait blocks until the state changes, the earliest of the given times
// passes on the wall clock, or ctx ends.
func (b *Backend) wait(ctx context.Context, changed <-chan struct{}, next time.Time) error {
	var timer <-chan time.Time
	if !next.IsZero() {
		d := next.Sub(b.Now())
		if d < time.Millisecond {
			d = time.Millisecond
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-timer:
	}
	return nil
}

// FetchOrchestrationWorkItem implements backend.Backend. Work that is
// ready is returned even when ctx is already done.
func (b *Backend) FetchOrchestrationWorkItem(ctx context.Context) (*backend.OrchestrationWorkItem, error) {
	return fetchWhenReady(ctx, b, b.nextOrchestrationLocked)
}

// fetchWhenReady returns the work item next finds (called with b.mu held),
// waiting for a change or next's due time while there is none.
func fetchWhenReady[W any](ctx context.Context, b *Backend, next func() (*W, time.Time)) (*W, error) {
	for {
		b.mu.Lock()
		wi, due := next()
		changed := b.changed
		b.mu.Unlock()
		if wi != nil {
			return wi, nil
		}
		if err := b.wait(ctx, changed, due); err != nil {
			return nil, err
		}
	}
}

// TryFetchOrchestrationWorkItem returns the next orchestration work item
// that is ready now, or nil without waiting.
func (b *Backend) TryFetchOrchestrationWorkItem() *backend.OrchestrationWorkItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	wi, _ := b.nextOrchestrationLocked()
	return wi
}

// FetchActivityWorkItem implements backend.Backend. Work that is ready is
// returned even when ctx is already done.
func (b *Backend) FetchActivityWorkItem(ctx context.Context) (*backend.ActivityWorkItem, error) {
	return fetchWhenReady(ctx, b, b.nextActivityLocked)
}

// TryFetchActivityWorkItem returns the next activity work item that is
// ready now, or nil without waiting.
func (b *Backend) TryFetchActivityWorkItem() *backend.ActivityWorkItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	wi, _ := b.nextActivityLocked()
	return wi
}

// NextDue returns the earliest time at which a message or activity that
// is not visible yet (a timer, a scheduled start or signal, an abandoned
// work item) becomes visible; ok is false when there is none.
func (b *Backend) NextDue() (t time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.Now()
	for _, m := range b.control {
		if !m.taken && m.visibleAt.After(now) && (!ok || m.visibleAt.Before(t)) {
			t, ok = m.visibleAt, true
		}
	}
	for _, a := range b.work {
		if !a.taken && a.visibleAt.After(now) && (!ok || a.visibleAt.Before(t)) {
			t, ok = a.visibleAt, true
		}
	}
	return t, ok
}

// nextOrchestrationLocked builds the work item of the first instance with
// a visible message that is not locked; next is the earliest later
// visibility, for waiting.
func (b *Backend) nextOrchestrationLocked() (*backend.OrchestrationWorkItem, time.Time) {
	now := b.Now()
	var next time.Time
	tried := map[string]bool{}
	// buildLocked drops messages from b.control: walk a copy.
	for _, m := range append([]*message(nil), b.control...) {
		if m.taken || b.locked[m.target.InstanceID] || tried[m.target.InstanceID] {
			continue
		}
		if m.visibleAt.After(now) {
			if next.IsZero() || m.visibleAt.Before(next) {
				next = m.visibleAt
			}
			continue
		}
		tried[m.target.InstanceID] = true
		if wi := b.buildLocked(m.target.InstanceID, now); wi != nil {
			return wi, time.Time{}
		}
	}
	return nil, next
}

// buildLocked decides, message by message, what an episode of instanceID
// consumes: duplicate starts, messages for another execution and second
// results of a call are dropped; messages for an instance whose start is
// still scheduled wait for it.
func (b *Backend) buildLocked(instanceID string, now time.Time) *backend.OrchestrationWorkItem {
	inst := b.instances[instanceID]
	var hist []*history.Event
	current := ""
	if inst != nil {
		hist = inst.history
		current = inst.state.ExecutionID
	}
	var batch []*message
	for _, m := range b.control {
		if m.target.InstanceID == instanceID && !m.taken && !m.visibleAt.After(now) {
			batch = append(batch, m)
		}
	}
	// A new start (a client start of a finished instance, or a restart)
	// begins a new execution with an empty history.
	for _, m := range batch {
		if m.event.Type == history.ExecutionStarted && findEvent(hist, history.ExecutionStarted) != nil &&
			!strings.EqualFold(m.target.ExecutionID, executionOf(hist)) {
			hist, current = nil, m.target.ExecutionID
			break
		}
	}
	hasStart := findEvent(hist, history.ExecutionStarted) != nil
	answered := map[int]bool{}
	for _, e := range hist {
		if isResponse(e) {
			answered[responseID(e)] = true
		}
	}
	var keep, drop []*message
	for _, m := range batch {
		e := m.event
		switch {
		case e.Type == history.ExecutionStarted:
			if hasStart {
				drop = append(drop, m)
				continue
			}
			keep = append(keep, m)
			hasStart = true
			current = m.target.ExecutionID
		case m.target.ExecutionID != "" && current != "" && !strings.EqualFold(m.target.ExecutionID, current):
			drop = append(drop, m)
		case isResponse(e) && answered[responseID(e)]:
			drop = append(drop, m)
		default:
			keep = append(keep, m)
			if isResponse(e) {
				answered[responseID(e)] = true
			}
		}
	}
	b.removeLocked(drop)
	if !hasStart && !strings.HasPrefix(instanceID, "@") && inst != nil && inst.state.RuntimeStatus == history.StatusPending {
		// The start is scheduled for later: a terminate ends the instance
		// now; other messages wait for the start.
		for _, m := range keep {
			if m.event.Type == history.ExecutionTerminated {
				inst.state.RuntimeStatus = history.StatusTerminated
				inst.state.Output = m.event.Input
				inst.state.CompletedTime = now
				inst.state.LastUpdatedTime = now
				b.removeControlForLocked(instanceID)
				b.notifyLocked()
				return nil
			}
		}
		for _, m := range keep {
			m.visibleAt = b.pendingStartLocked(instanceID, now)
		}
		return nil
	}
	if len(keep) == 0 {
		return nil
	}
	wi := &backend.OrchestrationWorkItem{InstanceID: instanceID, History: cloneEvents(hist)}
	for _, m := range keep {
		m.taken = true
		m.dequeued++
		e := m.event.Clone()
		wi.NewEvents = append(wi.NewEvents, e)
		wi.Messages = append(wi.Messages, &backend.Message{Event: e, Target: m.target, Sender: m.sender,
			DequeueCount: m.dequeued, InsertedAt: m.inserted})
	}
	wi.Provider = &orchestrationItem{messages: keep}
	b.locked[instanceID] = true
	return wi
}

// pendingStartLocked is when a scheduled start of instanceID becomes
// visible (now if none is queued).
func (b *Backend) pendingStartLocked(instanceID string, now time.Time) time.Time {
	for _, m := range b.control {
		if m.target.InstanceID == instanceID && m.event.Type == history.ExecutionStarted && m.visibleAt.After(now) {
			return m.visibleAt
		}
	}
	return now
}

func (b *Backend) removeLocked(msgs []*message) {
	if len(msgs) == 0 {
		return
	}
	gone := map[*message]bool{}
	for _, m := range msgs {
		gone[m] = true
	}
	kept := b.control[:0]
	for _, m := range b.control {
		if !gone[m] {
			kept = append(kept, m)
		}
	}
	b.control = kept
}

func (b *Backend) removeControlForLocked(instanceID string) {
	kept := b.control[:0]
	for _, m := range b.control {
		if m.target.InstanceID != instanceID || m.taken {
			kept = append(kept, m)
		}
	}
	b.control = kept
}

func itemOf(wi *backend.OrchestrationWorkItem) (*orchestrationItem, error) {
	it, ok := wi.Provider.(*orchestrationItem)
	if !ok || it == nil {
		return nil, fmt.Errorf("memory: work item for %q was not fetched from this backend: %w", wi.InstanceID, backend.ErrWorkItemLost)
	}
	if it.done {
		return nil, fmt.Errorf("memory: work item for %q was already completed or abandoned: %w", wi.InstanceID, backend.ErrWorkItemLost)
	}
	return it, nil
}

// CompleteOrchestrationWorkItem implements backend.Backend. The whole
// checkpoint is applied at once.
func (b *Backend) CompleteOrchestrationWorkItem(ctx context.Context, wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	it, err := itemOf(wi)
	if err != nil {
		return err
	}
	if len(cp.NewEvents) > 0 {
		if err := b.applyLocked(wi, cp); err != nil {
			return err
		}
	}
	it.done = true
	b.removeLocked(it.messages)
	delete(b.locked, wi.InstanceID)
	b.notifyLocked()
	return nil
}

func (b *Backend) applyLocked(wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint) error {
	now := b.Now()
	started := findEvent(cp.NewEvents, history.ExecutionStarted)
	if started == nil {
		started = findEvent(wi.History, history.ExecutionStarted)
	}
	if started == nil || started.Instance == nil {
		return fmt.Errorf("memory: checkpoint of %q has no ExecutionStarted event", wi.InstanceID)
	}
	self := *started.Instance
	inst := b.instances[wi.InstanceID]
	if inst == nil {
		inst = &instance{state: backend.InstanceState{InstanceID: wi.InstanceID, CreatedTime: now}}
		b.instances[wi.InstanceID] = inst
	}
	if cp.ContinuedAsNew || !strings.EqualFold(executionOf(wi.History), self.ExecutionID) || len(wi.History) == 0 {
		inst.history = cloneEvents(cp.NewEvents)
	} else {
		inst.history = append(cloneEvents(wi.History), cloneEvents(cp.NewEvents)...)
	}
	episode := countEvents(inst.history, history.OrchestratorStarted)
	for _, m := range cp.Outbound {
		if m.Event.Type == history.TaskScheduled {
			b.seq++
			b.work = append(b.work, &activity{seq: b.seq, instance: self, scheduled: m.Event.Clone(), episode: episode, visibleAt: now})
			continue
		}
		b.sendLocked(m.Target, self, m.Event, m.VisibleAt, now)
	}
	for _, m := range cp.Timers {
		b.sendLocked(m.Target, self, m.Event, m.VisibleAt, now)
	}
	st := &inst.state
	// A client's start keeps the creation time CreateInstance gave it
	// (the backend's clock, which a test may have set).
	created := st.RuntimeStatus == history.StatusPending && strings.EqualFold(st.ExecutionID, self.ExecutionID) && !st.CreatedTime.IsZero()
	st.ExecutionID = self.ExecutionID
	st.LastUpdatedTime = now
	st.CustomStatus = cp.State.CustomStatus
	for _, e := range cp.NewEvents {
		switch e.Type {
		case history.ExecutionStarted:
			st.Name, st.Version, st.Input = e.Name, e.Version, e.Input
			if !created {
				st.CreatedTime = orNow(e.Timestamp, now)
			}
			st.Tags = e.Tags
			st.ScheduledStartTime = e.ScheduledStartTime
			if e.Generation != nil {
				st.Generation = *e.Generation
			}
			st.Output = nil
			st.CompletedTime = time.Time{}
		case history.ExecutionCompleted:
			st.Output = e.Result
			if e.Failure != nil {
				s := e.Failure.String()
				st.Output = &s
			}
		case history.ContinueAsNew:
			st.Output = e.Result
		case history.ExecutionTerminated:
			st.Output = e.Input
		}
	}
	if cp.State.Output != nil {
		st.Output = cp.State.Output
	}
	// The engine decides the status (suspend and resume, a terminate
	// applied in the episode, the running status of a continued execution).
	st.RuntimeStatus = cp.State.RuntimeStatus
	if st.RuntimeStatus.IsTerminal() {
		st.CompletedTime = orNow(cp.State.CompletedTime, now)
	}
	return nil
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC()
}

// sendLocked queues an orchestration message. A scheduled entity signal
// (an EventRaised named "op@{due time}" to an entity) waits until its due
// time, as the Azure Storage provider delays it through queue visibility.
func (b *Backend) sendLocked(to, from history.OrchestrationInstance, e *history.Event, visibleAt, now time.Time) {
	if visibleAt.IsZero() {
		visibleAt = now
	}
	if e.Type == history.EventRaised && strings.HasPrefix(to.InstanceID, "@") && len(e.Name) > 3 && strings.HasPrefix(e.Name, "op@") {
		if due, err := history.ParseTime(e.Name[3:]); err == nil && due.After(visibleAt) {
			visibleAt = due
		}
	}
	b.seq++
	b.control = append(b.control, &message{seq: b.seq, target: to, sender: from, event: e.Clone(), visibleAt: visibleAt, inserted: now})
}

// AbandonOrchestrationWorkItem implements backend.Backend: the messages
// become visible again after delay.
func (b *Backend) AbandonOrchestrationWorkItem(ctx context.Context, wi *backend.OrchestrationWorkItem, delay time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	it, err := itemOf(wi)
	if err != nil {
		return err
	}
	it.done = true
	at := b.Now().Add(delay)
	for _, m := range it.messages {
		m.taken = false
		m.visibleAt = at
	}
	delete(b.locked, wi.InstanceID)
	b.notifyLocked()
	return nil
}

func (b *Backend) nextActivityLocked() (*backend.ActivityWorkItem, time.Time) {
	now := b.Now()
	var next time.Time
	for _, a := range b.work {
		if a.taken {
			continue
		}
		if a.visibleAt.After(now) {
			if next.IsZero() || a.visibleAt.Before(next) {
				next = a.visibleAt
			}
			continue
		}
		a.taken = true
		a.dequeued++
		return &backend.ActivityWorkItem{Instance: a.instance, Scheduled: a.scheduled.Clone(), Episode: a.episode,
			DequeueCount: a.dequeued, Provider: a}, time.Time{}
	}
	return nil, next
}

func (b *Backend) activityLocked(wi *backend.ActivityWorkItem) (*activity, error) {
	a, ok := wi.Provider.(*activity)
	if ok {
		for _, w := range b.work {
			if w == a && a.taken {
				return a, nil
			}
		}
	}
	name := ""
	if wi.Scheduled != nil {
		name = wi.Scheduled.Name
	}
	return nil, fmt.Errorf("memory: activity work item %q of %q is not held: %w", name, wi.Instance.InstanceID, backend.ErrWorkItemLost)
}

// CompleteActivityWorkItem implements backend.Backend.
func (b *Backend) CompleteActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem, result *history.Event) error {
	if result == nil || (result.Type != history.TaskCompleted && result.Type != history.TaskFailed) {
		return errors.New("memory: an activity result must be a TaskCompleted or TaskFailed event")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.activityLocked(wi)
	if err != nil {
		return err
	}
	b.removeActivityLocked(a)
	b.sendLocked(a.instance, history.OrchestrationInstance{}, result, time.Time{}, b.Now())
	b.notifyLocked()
	return nil
}

func (b *Backend) removeActivityLocked(a *activity) {
	kept := b.work[:0]
	for _, w := range b.work {
		if w != a {
			kept = append(kept, w)
		}
	}
	b.work = kept
}

// AbandonActivityWorkItem implements backend.Backend.
func (b *Backend) AbandonActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem, delay time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.activityLocked(wi)
	if err != nil {
		return err
	}
	a.taken = false
	a.visibleAt = b.Now().Add(delay)
	b.notifyLocked()
	return nil
}

// RenewActivityWorkItem implements backend.Backend; a held work item
// never expires here.
func (b *Backend) RenewActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.activityLocked(wi)
	return err
}

// CreateInstance implements backend.Backend.
func (b *Backend) CreateInstance(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus) error {
	if start == nil || start.Type != history.ExecutionStarted || start.Instance == nil || start.Instance.InstanceID == "" {
		return errors.New("memory: CreateInstance needs an ExecutionStarted event with an instance id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	id := start.Instance.InstanceID
	now := b.Now()
	gen := 0
	if inst := b.instances[id]; inst != nil {
		for _, s := range dedupe {
			if inst.state.RuntimeStatus == s {
				return fmt.Errorf("memory: instance %q is %s: %w", id, s, backend.ErrInstanceExists)
			}
		}
		gen = inst.state.Generation + 1
	}
	e := start.Clone()
	if b.stamp {
		e.Timestamp = now
	}
	e.Generation = &gen
	start.Generation = &gen
	visible := now
	if e.ScheduledStartTime != nil && e.ScheduledStartTime.After(now) {
		visible = *e.ScheduledStartTime
	}
	// Messages still queued for an earlier execution are of no use now.
	b.removeControlForLocked(id)
	b.sendLocked(*e.Instance, history.OrchestrationInstance{}, e, visible, now)
	old := b.instances[id]
	inst := &instance{state: backend.InstanceState{
		InstanceID: id, ExecutionID: e.Instance.ExecutionID, Name: e.Name, Version: e.Version,
		RuntimeStatus: history.StatusPending, Input: e.Input, CreatedTime: now, LastUpdatedTime: now,
		ScheduledStartTime: e.ScheduledStartTime, Generation: gen, Tags: e.Tags,
	}}
	if old != nil {
		inst.history = old.history // replaced when the new start is processed
	}
	b.instances[id] = inst
	b.notifyLocked()
	return nil
}

// SendEvent implements backend.Backend.
func (b *Backend) SendEvent(ctx context.Context, to history.OrchestrationInstance, e *history.Event) error {
	if e == nil || to.InstanceID == "" {
		return errors.New("memory: SendEvent needs an event and an instance id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stamp {
		e = e.Clone()
		e.Timestamp = b.Now()
	}
	b.sendLocked(to, history.OrchestrationInstance{}, e, time.Time{}, b.Now())
	b.notifyLocked()
	return nil
}

// GetInstance implements backend.Backend.
func (b *Backend) GetInstance(ctx context.Context, instanceID string, fetchPayloads bool) (*backend.InstanceState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	inst := b.instances[instanceID]
	if inst == nil {
		return nil, fmt.Errorf("memory: %q: %w", instanceID, backend.ErrInstanceNotFound)
	}
	st := copyState(&inst.state)
	return st, nil
}

func copyState(s *backend.InstanceState) *backend.InstanceState {
	c := *s
	if s.Tags != nil {
		c.Tags = map[string]string{}
		for k, v := range s.Tags {
			c.Tags[k] = v
		}
	}
	return &c
}

// GetHistory implements backend.Backend. An unknown instance has an empty
// history.
func (b *Backend) GetHistory(ctx context.Context, instanceID string) ([]*history.Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	inst := b.instances[instanceID]
	if inst == nil {
		return nil, nil
	}
	return cloneEvents(inst.history), nil
}

// QueryInstances implements backend.Backend. Instances come in instance id
// order; the continuation token is the last id of the page.
func (b *Backend) QueryInstances(ctx context.Context, q backend.InstanceQuery) (*backend.InstancePage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	size := q.PageSize
	if size <= 0 {
		size = 100
	}
	ids := make([]string, 0, len(b.instances))
	for id := range b.instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := &backend.InstancePage{}
	for _, id := range ids {
		if q.ContinuationToken != "" && id <= q.ContinuationToken {
			continue
		}
		st := &b.instances[id].state
		if !matches(st, q) {
			continue
		}
		if len(out.Instances) == size {
			out.ContinuationToken = out.Instances[size-1].InstanceID
			break
		}
		c := copyState(st)
		if !q.FetchInputs {
			c.Input = nil
		}
		out.Instances = append(out.Instances, c)
	}
	return out, nil
}

func matches(st *backend.InstanceState, q backend.InstanceQuery) bool {
	if !q.CreatedFrom.IsZero() && st.CreatedTime.Before(q.CreatedFrom) {
		return false
	}
	if !q.CreatedTo.IsZero() && st.CreatedTime.After(q.CreatedTo) {
		return false
	}
	if len(q.RuntimeStatus) > 0 {
		ok := false
		for _, s := range q.RuntimeStatus {
			ok = ok || st.RuntimeStatus == s
		}
		if !ok {
			return false
		}
	}
	if q.InstanceIDPrefix != "" && !strings.HasPrefix(st.InstanceID, q.InstanceIDPrefix) {
		return false
	}
	return !(q.ExcludeEntities && strings.HasPrefix(st.InstanceID, "@"))
}

// PurgeInstance implements backend.Backend: the instance's status,
// history and queued messages go.
func (b *Backend) PurgeInstance(ctx context.Context, instanceID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.instances[instanceID] == nil {
		return fmt.Errorf("memory: purge %q: %w", instanceID, backend.ErrInstanceNotFound)
	}
	delete(b.instances, instanceID)
	b.removeControlForLocked(instanceID)
	b.notifyLocked()
	return nil
}

// ErrNotRewindable: only a Failed instance with a failure in its history
// can be rewound.
var ErrNotRewindable = errors.New("instance cannot be rewound")

// RewindInstance implements backend.Backend as the Azure Storage provider
// does: each failed result, the call it answered and the failed
// ExecutionCompleted become GenericEvent "Rewound: …" events, the instance
// goes back to Pending and a GenericEvent wakes it, so its failed calls run
// again on replay.
func (b *Backend) RewindInstance(ctx context.Context, instanceID, reason string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	inst := b.instances[instanceID]
	if inst == nil {
		return fmt.Errorf("memory: rewind %q: %w", instanceID, backend.ErrInstanceNotFound)
	}
	if inst.state.RuntimeStatus != history.StatusFailed {
		return fmt.Errorf("memory: rewind %q: it is %s, not Failed: %w", instanceID, inst.state.RuntimeStatus, ErrNotRewindable)
	}
	failed := map[int]bool{}
	for _, e := range inst.history {
		if e.Type == history.TaskFailed || e.Type == history.SubOrchestrationInstanceFailed {
			failed[e.TaskScheduledID] = true
		}
	}
	n := 0
	for i, e := range inst.history {
		rewound := false
		switch e.Type {
		case history.TaskFailed, history.SubOrchestrationInstanceFailed, history.ExecutionCompleted:
			rewound = true
		case history.TaskScheduled, history.SubOrchestrationInstanceCreated:
			rewound = failed[e.EventID]
		}
		if rewound {
			data := "Rewound: " + e.Type.String()
			inst.history[i] = &history.Event{Type: history.GenericEvent, EventID: e.EventID, Timestamp: e.Timestamp, Data: &data}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("memory: rewind %q: its history has no failure to rewind: %w", instanceID, ErrNotRewindable)
	}
	now := b.Now()
	null := "null"
	inst.state.RuntimeStatus = history.StatusPending
	inst.state.Output = &null
	inst.state.LastUpdatedTime = now
	inst.state.CompletedTime = time.Time{}
	data := "Rewind: " + reason
	b.sendLocked(history.OrchestrationInstance{InstanceID: instanceID}, history.OrchestrationInstance{},
		&history.Event{Type: history.GenericEvent, EventID: -1, Timestamp: now, Data: &data}, time.Time{}, now)
	b.notifyLocked()
	return nil
}

// ImportInstance stores an instance with the given history, as if it had
// run here, and derives its status from the history. Nothing is queued
// for it. Replaying stored histories against new code starts from here.
func (b *Backend) ImportInstance(instanceID string, events []*history.Event) error {
	start := findEvent(events, history.ExecutionStarted)
	if start == nil {
		return fmt.Errorf("memory: import %q: the history has no ExecutionStarted event", instanceID)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := backend.InstanceState{InstanceID: instanceID, Name: start.Name, Version: start.Version, Input: start.Input,
		CreatedTime: start.Timestamp, RuntimeStatus: history.StatusRunning, Tags: start.Tags}
	if start.Instance != nil {
		st.ExecutionID = start.Instance.ExecutionID
	}
	if start.Generation != nil {
		st.Generation = *start.Generation
	}
	for _, e := range events {
		st.LastUpdatedTime = e.Timestamp
		switch e.Type {
		case history.ExecutionCompleted:
			st.RuntimeStatus, st.Output, st.CompletedTime = e.OrchestrationStatus, e.Result, e.Timestamp
		case history.ExecutionTerminated:
			st.RuntimeStatus, st.Output, st.CompletedTime = history.StatusTerminated, e.Input, e.Timestamp
		case history.ContinueAsNew:
			st.RuntimeStatus, st.Output = history.StatusContinuedAsNew, e.Result
		case history.ExecutionSuspended:
			st.RuntimeStatus = history.StatusSuspended
		case history.ExecutionResumed:
			st.RuntimeStatus = history.StatusRunning
		}
	}
	b.instances[instanceID] = &instance{state: st, history: cloneEvents(events)}
	b.notifyLocked()
	return nil
}

func cloneEvents(events []*history.Event) []*history.Event {
	if events == nil {
		return nil
	}
	out := make([]*history.Event, len(events))
	for i, e := range events {
		out[i] = e.Clone()
	}
	return out
}

func findEvent(events []*history.Event, t history.EventType) *history.Event {
	for _, e := range events {
		if e.Type == t {
			return e
		}
	}
	return nil
}

func executionOf(events []*history.Event) string {
	if s := findEvent(events, history.ExecutionStarted); s != nil && s.Instance != nil {
		return s.Instance.ExecutionID
	}
	return ""
}

func countEvents(events []*history.Event, t history.EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == t {
			n++
		}
	}
	return n
}

func isFinished(events []*history.Event) bool {
	for _, e := range events {
		switch e.Type {
		case history.ExecutionCompleted, history.ContinueAsNew, history.ExecutionTerminated:
			return true
		}
	}
	return false
}

func isResponse(e *history.Event) bool {
	switch e.Type {
	case history.TaskCompleted, history.TaskFailed, history.SubOrchestrationInstanceCompleted,
		history.SubOrchestrationInstanceFailed, history.TimerFired:
		return true
	}
	return false
}

func responseID(e *history.Event) int {
	if e.Type == history.TimerFired {
		return e.TimerID
	}
	return e.TaskScheduledID
}

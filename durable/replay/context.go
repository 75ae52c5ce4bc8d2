package replay

import (
	"runtime"
	"time"

	"github.com/godurable/functions/durable/history"
)

// Context is what the orchestrator's code sees of its execution. Its methods
// must be called only from the orchestrator's own goroutine (or from a
// future's callback): a call from any other goroutine changes nothing,
// fails the instance with a "multithreaded execution" error, and an Await
// from such a goroutine ends that goroutine with runtime.Goexit.
type Context struct {
	x *Executor
}

// Owned reports whether the calling goroutine may use the context now; if
// not, it records the misuse (what describes the call) so the instance
// fails. Layers above use it to guard their own state.
func (c *Context) Owned(what string) bool {
	return c.do(what, "", func() {})
}

// do runs fn under the executor's lock if the calling goroutine holds
// control, and reports the misuse (what + name) otherwise.
func (c *Context) do(what, name string, fn func()) bool {
	x := c.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if curGID() != x.owner {
		x.misuse.report(what + name)
		return false
	}
	fn()
	return true
}

// InstanceID is the orchestration instance's id.
func (c *Context) InstanceID() string { return c.x.started.Instance.InstanceID }

// ExecutionID is the id of the current execution (generation).
func (c *Context) ExecutionID() string { return c.x.started.Instance.ExecutionID }

// Name is the orchestrator's name.
func (c *Context) Name() string { return c.x.started.Name }

// Version is the orchestration version the execution was started with.
func (c *Context) Version() string { return c.x.started.Version }

// Input is the orchestration's input as stored JSON text (nil for null).
func (c *Context) Input() *string { return c.x.started.Input }

// Parent describes the parent orchestration of a sub-orchestration, or nil.
func (c *Context) Parent() *history.ParentInstance { return c.x.started.Parent }

// IsReplaying reports whether the code is re-running from history rather
// than making new progress. It is also true while the coroutine is being
// unwound at unload, so replay-safe logging stays silent then.
func (c *Context) IsReplaying() bool {
	r := true
	c.do("read IsReplaying", "", func() { r = c.x.replaying || c.x.unloading })
	return r
}

// CurrentUTCDateTime is the replay-safe current time: the timestamp of the
// episode being replayed or run.
func (c *Context) CurrentUTCDateTime() time.Time {
	var t time.Time
	c.do("read CurrentUTCDateTime", "", func() { t = c.x.now })
	return t
}

func (c *Context) schedule(what string, a *Action) *Future {
	var f *Future
	if !c.do(what, a.Name, func() { f = c.x.schedule(a) }) {
		f = &Future{ID: -1, Kind: a.Kind, Name: a.Name, dead: true}
	}
	return f
}

// ScheduleTask schedules an activity call.
func (c *Context) ScheduleTask(name, version string, input *string) *Future {
	return c.schedule("called activity ", &Action{Kind: ScheduleTask, Name: name, Version: version, Input: input})
}

// CreateTimer schedules a durable timer that fires at fireAt (UTC).
func (c *Context) CreateTimer(fireAt time.Time) *Future {
	return c.schedule("created a timer", &Action{Kind: CreateTimer, FireAt: fireAt.UTC()})
}

// CallSubOrchestrator starts a child orchestration with the given instance id.
func (c *Context) CallSubOrchestrator(name, version, instanceID string, input *string) *Future {
	return c.schedule("called sub-orchestrator ", &Action{Kind: CreateSubOrchestration, Name: name, Version: version, InstanceID: instanceID, Input: input})
}

// SendEvent raises an event on another orchestration instance. It returns
// nothing to wait for: delivery is fire-and-forget.
func (c *Context) SendEvent(instanceID, name string, input *string) {
	c.schedule("sent event ", &Action{Kind: SendEvent, Name: name, InstanceID: instanceID, Input: input})
}

// NextSequenceNumber is the sequence number the next scheduled action will
// take (used, for example, to derive default child instance ids).
func (c *Context) NextSequenceNumber() int {
	n := -1
	c.do("read the sequence number", "", func() { n = c.x.nextID })
	return n
}

// WaitForEvent returns a future that completes with the next external event
// of that name (case-insensitive). A buffered event completes it at once.
func (c *Context) WaitForEvent(name string) *Future {
	var f *Future
	if !c.do("waited for event ", name, func() { f = c.x.waitForEvent(name) }) {
		f = &Future{ID: -1, Name: name, dead: true}
	}
	return f
}

// CancelWait withdraws an unfinished event wait, so a later event of that
// name is buffered for the next waiter instead of being consumed by it.
func (c *Context) CancelWait(f *Future) {
	c.do("canceled an event wait", "", func() { c.x.cancelWait(f) })
}

// Await blocks the orchestrator until at least one of fs is done. Futures
// that are already done return at once; so does every Await while the
// orchestrator is being unwound at unload.
func (c *Context) Await(fs ...*Future) {
	c.AwaitUntil(func() bool { return anyDone(fs) })
}

// AwaitUntil blocks the orchestrator until ready reports true; the
// executor checks ready after every event that completes a future. It
// returns false without blocking while the orchestrator is being unwound
// at unload (ready has not become true). Called from another goroutine it
// ends that goroutine with runtime.Goexit.
func (c *Context) AwaitUntil(ready func() bool) bool {
	if !c.Owned("awaited a task") {
		runtime.Goexit()
	}
	if curGID() != c.x.co.gid.Load() {
		// A callback on the executor's goroutine (a RetryPolicy.Handle
		// function, say) cannot block: there is nothing to yield to.
		c.x.misuse.report("awaited a task inside a callback (such as RetryPolicy.Handle)")
		return false
	}
	return c.x.await(ready)
}

// OnEnd registers fn to run when the execution is ended by something other
// than the orchestrator returning: termination, or a failure the engine
// detects (non-determinism, multithreaded use, a blocked step). It runs on
// the executor's goroutine before the episode's actions are collected, so
// the events it sends (lock releases) are part of the episode.
func (c *Context) OnEnd(fn func()) {
	c.do("registered an end handler", "", func() { c.x.finalizers = append(c.x.finalizers, fn) })
}

// SetCustomStatus sets the instance's custom status (JSON text; nil clears).
func (c *Context) SetCustomStatus(s *string) {
	c.do("set the custom status", "", func() { c.x.customStatus = s })
}

// ContinueAsNew asks for the orchestration to restart with a new input once
// the orchestrator function returns. With preserveEvents, external events
// that arrived but were not consumed are delivered to the new execution;
// events that arrive after the call always are.
func (c *Context) ContinueAsNew(input *string, preserveEvents bool) {
	c.do("continued as new", "", func() { c.x.continueAsNew = &continueAsNew{input: input, preserveEvents: preserveEvents} })
}

package replay

import (
	"strings"
	"time"

	"github.com/godurable/functions/durable/history"
)

// Context is what the orchestrator's code sees of its execution. Its methods
// must be called only from the orchestrator's own coroutine.
type Context struct {
	x *Executor
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
// than making new progress.
func (c *Context) IsReplaying() bool { return c.x.replaying }

// CurrentUTCDateTime is the replay-safe current time: the timestamp of the
// episode being replayed or run.
func (c *Context) CurrentUTCDateTime() time.Time { return c.x.now }

// ScheduleTask schedules an activity call.
func (c *Context) ScheduleTask(name, version string, input *string) *Future {
	return c.x.schedule(&Action{Kind: ScheduleTask, Name: name, Version: version, Input: input})
}

// CreateTimer schedules a durable timer that fires at fireAt (UTC).
func (c *Context) CreateTimer(fireAt time.Time) *Future {
	return c.x.schedule(&Action{Kind: CreateTimer, FireAt: fireAt.UTC()})
}

// CallSubOrchestrator starts a child orchestration with the given instance id.
func (c *Context) CallSubOrchestrator(name, version, instanceID string, input *string) *Future {
	return c.x.schedule(&Action{Kind: CreateSubOrchestration, Name: name, Version: version, InstanceID: instanceID, Input: input})
}

// SendEvent raises an event on another orchestration instance. It returns
// nothing to wait for: delivery is fire-and-forget.
func (c *Context) SendEvent(instanceID, name string, input *string) {
	c.x.schedule(&Action{Kind: SendEvent, Name: name, InstanceID: instanceID, Input: input})
}

// NextSequenceNumber is the sequence number the next scheduled action will
// take (used, for example, to derive default child instance ids).
func (c *Context) NextSequenceNumber() int { return c.x.nextID }

// WaitForEvent returns a future that completes with the next external event
// of that name (case-insensitive). A buffered event completes it at once.
func (c *Context) WaitForEvent(name string) *Future {
	return c.x.waitForEvent(name)
}

// CancelWait withdraws an unfinished event wait, so a later event of that
// name is buffered for the next waiter instead of being consumed by it.
func (c *Context) CancelWait(f *Future) {
	if f.done {
		return
	}
	key := strings.ToLower(f.Name)
	ws := c.x.waiters[key]
	for i, w := range ws {
		if w == f {
			c.x.waiters[key] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	f.done, f.canceled = true, true
}

// Await blocks the orchestrator until at least one of fs is done. Futures
// that are already done return at once.
func (c *Context) Await(fs ...*Future) {
	c.x.awaitAny(fs)
}

// SetCustomStatus sets the instance's custom status (JSON text; nil clears).
func (c *Context) SetCustomStatus(s *string) { c.x.customStatus = s }

// ContinueAsNew asks for the orchestration to restart with a new input once
// the orchestrator function returns. With preserveEvents, external events
// that arrived but were not consumed are delivered to the new execution.
func (c *Context) ContinueAsNew(input *string, preserveEvents bool) {
	c.x.continueAsNew = &continueAsNew{input: input, preserveEvents: preserveEvents}
}

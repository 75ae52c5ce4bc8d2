package replay

import (
	"time"

	"github.com/godurable/functions/durable/history"
)

// ActionKind is the kind of work an orchestrator scheduled.
type ActionKind int

// The action kinds, each recorded in history by one event type.
const (
	ScheduleTask           ActionKind = iota // TaskScheduled
	CreateTimer                              // TimerCreated
	CreateSubOrchestration                   // SubOrchestrationInstanceCreated
	SendEvent                                // EventSent
)

func (k ActionKind) String() string {
	switch k {
	case ScheduleTask:
		return "activity call"
	case CreateTimer:
		return "timer"
	case CreateSubOrchestration:
		return "sub-orchestration call"
	case SendEvent:
		return "event send"
	}
	return "unknown action"
}

// eventType is the history event that records an action of this kind.
func (k ActionKind) eventType() history.EventType {
	switch k {
	case ScheduleTask:
		return history.TaskScheduled
	case CreateTimer:
		return history.TimerCreated
	case CreateSubOrchestration:
		return history.SubOrchestrationInstanceCreated
	default:
		return history.EventSent
	}
}

// Action is one piece of work the orchestrator scheduled in this episode.
type Action struct {
	ID      int // the sequence number; the EventID of its history event
	Kind    ActionKind
	Name    string // activity, orchestrator or event name
	Version string
	Input   *string
	// FireAt is the timer's due time (CreateTimer).
	FireAt time.Time
	// InstanceID is the child's id (CreateSubOrchestration) or the target
	// instance (SendEvent).
	InstanceID string
	Tags       map[string]string
}

// Event returns the history event that records the action.
func (a *Action) Event(now time.Time) *history.Event {
	e := &history.Event{Type: a.Kind.eventType(), EventID: a.ID, Timestamp: now}
	switch a.Kind {
	case ScheduleTask:
		e.Name, e.Version, e.Input, e.Tags = a.Name, a.Version, a.Input, a.Tags
	case CreateTimer:
		e.FireAt = a.FireAt
	case CreateSubOrchestration:
		e.Name, e.Version, e.Input, e.InstanceID, e.Tags = a.Name, a.Version, a.Input, a.InstanceID, a.Tags
	case SendEvent:
		e.Name, e.Input, e.InstanceID = a.Name, a.Input, a.InstanceID
	}
	return e
}

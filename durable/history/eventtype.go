package history

import "fmt"

// EventType identifies the kind of a history event. The integer values are
// those of DurableTask.Core's EventType enum: they are written as integers in
// queue messages and as names in table rows.
type EventType int

// The event types, in DurableTask.Core's order.
const (
	ExecutionStarted                  EventType = 0
	ExecutionCompleted                EventType = 1
	ExecutionFailed                   EventType = 2
	ExecutionTerminated               EventType = 3
	TaskScheduled                     EventType = 4
	TaskCompleted                     EventType = 5
	TaskFailed                        EventType = 6
	SubOrchestrationInstanceCreated   EventType = 7
	SubOrchestrationInstanceCompleted EventType = 8
	SubOrchestrationInstanceFailed    EventType = 9
	TimerCreated                      EventType = 10
	TimerFired                        EventType = 11
	OrchestratorStarted               EventType = 12
	OrchestratorCompleted             EventType = 13
	EventSent                         EventType = 14
	EventRaised                       EventType = 15
	ContinueAsNew                     EventType = 16
	GenericEvent                      EventType = 17
	HistoryState                      EventType = 18
	ExecutionSuspended                EventType = 19
	ExecutionResumed                  EventType = 20
	ExecutionRewound                  EventType = 21
)

var eventTypeNames = [...]string{
	"ExecutionStarted", "ExecutionCompleted", "ExecutionFailed", "ExecutionTerminated",
	"TaskScheduled", "TaskCompleted", "TaskFailed",
	"SubOrchestrationInstanceCreated", "SubOrchestrationInstanceCompleted", "SubOrchestrationInstanceFailed",
	"TimerCreated", "TimerFired", "OrchestratorStarted", "OrchestratorCompleted",
	"EventSent", "EventRaised", "ContinueAsNew", "GenericEvent", "HistoryState",
	"ExecutionSuspended", "ExecutionResumed", "ExecutionRewound",
}

// String returns the .NET enum name, e.g. "TaskScheduled".
func (t EventType) String() string {
	if t >= 0 && int(t) < len(eventTypeNames) {
		return eventTypeNames[t]
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Valid reports whether t is one of the defined event types.
func (t EventType) Valid() bool { return t >= 0 && int(t) < len(eventTypeNames) }

// ParseEventType parses a .NET enum name such as "TaskCompleted".
func ParseEventType(name string) (EventType, error) {
	for i, n := range eventTypeNames {
		if n == name {
			return EventType(i), nil
		}
	}
	return 0, fmt.Errorf("history: unknown event type %q", name)
}

// ClassName is the DurableTask.Core class that carries events of this type,
// without namespace, e.g. "TaskScheduledEvent".
func (t EventType) ClassName() string {
	switch t {
	case ExecutionStarted:
		return "ExecutionStartedEvent"
	case ExecutionCompleted:
		return "ExecutionCompletedEvent"
	case ExecutionTerminated:
		return "ExecutionTerminatedEvent"
	case TaskScheduled:
		return "TaskScheduledEvent"
	case TaskCompleted:
		return "TaskCompletedEvent"
	case TaskFailed:
		return "TaskFailedEvent"
	case SubOrchestrationInstanceCreated:
		return "SubOrchestrationInstanceCreatedEvent"
	case SubOrchestrationInstanceCompleted:
		return "SubOrchestrationInstanceCompletedEvent"
	case SubOrchestrationInstanceFailed:
		return "SubOrchestrationInstanceFailedEvent"
	case TimerCreated:
		return "TimerCreatedEvent"
	case TimerFired:
		return "TimerFiredEvent"
	case OrchestratorStarted:
		return "OrchestratorStartedEvent"
	case OrchestratorCompleted:
		return "OrchestratorCompletedEvent"
	case EventSent:
		return "EventSentEvent"
	case EventRaised:
		return "EventRaisedEvent"
	case ContinueAsNew:
		return "ContinueAsNewEvent"
	case GenericEvent:
		return "GenericEvent"
	case HistoryState:
		return "HistoryStateEvent"
	case ExecutionSuspended:
		return "ExecutionSuspendedEvent"
	case ExecutionResumed:
		return "ExecutionResumedEvent"
	case ExecutionRewound:
		return "ExecutionRewoundEvent"
	}
	return ""
}

// EventTypeForClass maps a DurableTask.Core class name (without namespace) back
// to its event type.
func EventTypeForClass(class string) (EventType, bool) {
	for i := range eventTypeNames {
		t := EventType(i)
		if c := t.ClassName(); c != "" && c == class {
			return t, true
		}
	}
	return 0, false
}

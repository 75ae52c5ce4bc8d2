package history

import "time"

// Event is one history event. It is a flat union: Type says which of the
// optional fields are meaningful, mirroring the members of the matching
// DurableTask.Core class (see the field comments).
//
// Payload fields (Input, Result, Reason, Details, Data) hold JSON text exactly
// as stored; nil means .NET null, which is distinct from the empty string.
type Event struct {
	Type      EventType
	EventID   int       // the action's sequence number, or -1 for inbound events
	IsPlayed  bool      // DurableTask.Core's replay marker; stored, otherwise unused
	Timestamp time.Time // when the event was created, UTC

	// ExecutionStarted
	Instance           *OrchestrationInstance // the instance and execution that started
	Parent             *ParentInstance        // set for sub-orchestrations
	Tags               map[string]string      // also TaskScheduled and SubOrchestrationInstanceCreated
	Correlation        *string
	ParentTraceContext *TraceContext // also TaskScheduled, EventRaised, ExecutionRewound
	ScheduledStartTime *time.Time
	Generation         *int
	GenerateNewTrace   bool

	// Name: ExecutionStarted (orchestrator), TaskScheduled (activity),
	// SubOrchestrationInstanceCreated (orchestrator), EventSent and EventRaised
	// (event name). Version accompanies the first three.
	Name    string
	Version string

	// Input: ExecutionStarted, TaskScheduled, SubOrchestrationInstanceCreated,
	// EventSent, EventRaised, and ExecutionTerminated (the reason).
	Input *string

	// Result: TaskCompleted, SubOrchestrationInstanceCompleted,
	// ExecutionCompleted and ContinueAsNew.
	Result *string

	// Failures: TaskFailed and SubOrchestrationInstanceFailed carry Reason,
	// Details and Failure; ExecutionCompleted carries Failure.
	// Reason is also the reason of ExecutionSuspended/Resumed/Rewound.
	Reason  *string
	Details *string
	Failure *FailureDetails

	// ExecutionCompleted and ContinueAsNew.
	OrchestrationStatus OrchestrationStatus

	// TaskScheduledID links a completion (task or sub-orchestration) to the
	// EventID of the event that scheduled it.
	TaskScheduledID int

	// InstanceID: SubOrchestrationInstanceCreated (child id), EventSent
	// (target id), ExecutionRewound.
	InstanceID   string
	ClientSpanID *string // SubOrchestrationInstanceCreated

	// Timers.
	FireAt  time.Time // TimerCreated, TimerFired
	TimerID int       // TimerFired: EventID of its TimerCreated

	Data              *string // GenericEvent
	ParentExecutionID *string // ExecutionRewound
}

// OrchestrationInstance names one execution of an orchestration instance.
type OrchestrationInstance struct {
	InstanceID  string
	ExecutionID string // may be empty, meaning "whatever execution is current"
}

// ParentInstance describes the orchestration that started a sub-orchestration.
type ParentInstance struct {
	Name           string
	Version        string
	Instance       OrchestrationInstance
	TaskScheduleID int // the EventID of the parent's SubOrchestrationInstanceCreated
}

// TraceContext is DurableTask.Core's DistributedTraceContext.
type TraceContext struct {
	TraceParent       string
	TraceState        *string
	ID                *string
	SpanID            *string
	ActivityStartTime *time.Time
}

// Str returns a pointer to s, for the nullable payload fields.
func Str(s string) *string { return &s }

// Deref returns *p, or "" for nil.
func Deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Clone returns a deep copy of e.
func (e *Event) Clone() *Event {
	c := *e
	if e.Instance != nil {
		i := *e.Instance
		c.Instance = &i
	}
	if e.Parent != nil {
		p := *e.Parent
		c.Parent = &p
	}
	if e.Tags != nil {
		c.Tags = make(map[string]string, len(e.Tags))
		for k, v := range e.Tags {
			c.Tags[k] = v
		}
	}
	if e.Failure != nil {
		c.Failure = e.Failure.Clone()
	}
	return &c
}

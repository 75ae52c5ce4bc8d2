package azstorage

import (
	"fmt"

	"github.com/godurable/functions/durable/history"
)

// The data members of DurableTask.Core's history event classes, by name.
// Each name maps to one field of history.Event (see the codecs in
// message_encode.go, message_decode.go and historyrow.go).
const (
	mEventType             = "EventType"
	mEventID               = "EventId"
	mIsPlayed              = "IsPlayed"
	mTimestamp             = "Timestamp"
	mOrchestrationInstance = "OrchestrationInstance"
	mParentInstance        = "ParentInstance"
	mName                  = "Name"
	mVersion               = "Version"
	mInput                 = "Input"
	mTags                  = "Tags"
	mCorrelation           = "Correlation"
	mParentTraceContext    = "ParentTraceContext"
	mScheduledStartTime    = "ScheduledStartTime"
	mGeneration            = "Generation"
	mGenerateNewTrace      = "GenerateNewTrace"
	mOrchestrationStatus   = "OrchestrationStatus"
	mResult                = "Result"
	mFailureDetails        = "FailureDetails"
	mTaskScheduledID       = "TaskScheduledId"
	mReason                = "Reason"
	mDetails               = "Details"
	mInstanceID            = "InstanceId"
	mClientSpanID          = "ClientSpanId"
	mFireAt                = "FireAt"
	mTimerID               = "TimerId"
	mData                  = "Data"
	mState                 = "State"
	mParentExecutionID     = "ParentExecutionId"
)

// baseEventMembers are HistoryEvent's own data members, which Newtonsoft
// writes after the subclass's.
var baseEventMembers = []string{mEventID, mIsPlayed, mTimestamp}

// eventClassMembers lists, per event type, the members its class adds, in
// the order Newtonsoft.Json writes them: the class's fields first, then
// its properties in declaration order, among which the EventType override
// comes first (checked against DurableTask.Core/History/*.cs).
var eventClassMembers = map[history.EventType][]string{
	history.ExecutionStarted: {mOrchestrationInstance, mEventType, mParentInstance, mName, mVersion, mInput, mTags,
		mCorrelation, mParentTraceContext, mScheduledStartTime, mGeneration, mGenerateNewTrace},
	history.ExecutionCompleted:                {mEventType, mOrchestrationStatus, mResult, mFailureDetails},
	history.ExecutionTerminated:               {mEventType, mInput},
	history.TaskScheduled:                     {mEventType, mName, mVersion, mInput, mParentTraceContext, mTags},
	history.TaskCompleted:                     {mEventType, mTaskScheduledID, mResult},
	history.TaskFailed:                        {mEventType, mTaskScheduledID, mReason, mDetails, mFailureDetails},
	history.SubOrchestrationInstanceCreated:   {mEventType, mName, mVersion, mInstanceID, mInput, mClientSpanID, mTags},
	history.SubOrchestrationInstanceCompleted: {mEventType, mTaskScheduledID, mResult},
	history.SubOrchestrationInstanceFailed:    {mEventType, mTaskScheduledID, mReason, mDetails, mFailureDetails},
	history.TimerCreated:                      {mEventType, mFireAt},
	history.TimerFired:                        {mEventType, mTimerID, mFireAt},
	history.OrchestratorStarted:               {mEventType},
	history.OrchestratorCompleted:             {mEventType},
	history.EventSent:                         {mEventType, mInstanceID, mName, mInput},
	history.EventRaised:                       {mEventType, mName, mInput, mParentTraceContext},
	// ContinueAsNewEvent derives from ExecutionCompletedEvent and only
	// overrides EventType, so its members come out in the same order.
	history.ContinueAsNew:      {mEventType, mOrchestrationStatus, mResult, mFailureDetails},
	history.GenericEvent:       {mData, mEventType}, // Data is a field
	history.HistoryState:       {mEventType, mState},
	history.ExecutionSuspended: {mEventType, mReason},
	history.ExecutionResumed:   {mEventType, mReason},
	history.ExecutionRewound:   {mEventType, mReason, mParentExecutionID, mInstanceID, mParentTraceContext},
}

// eventMembers is every data member of an event type's class in
// serialization order, or an error for a type that has no class
// (ExecutionFailed) or is unknown.
func eventMembers(t history.EventType) ([]string, error) {
	own, ok := eventClassMembers[t]
	if !ok {
		return nil, fmt.Errorf("azstorage: event type %v has no DurableTask.Core history event class", t)
	}
	out := make([]string, 0, len(own)+len(baseEventMembers))
	return append(append(out, own...), baseEventMembers...), nil
}

// nullWhenEmpty reports members whose .NET type is a nullable string that
// history.Event holds as a plain string: "" stands for null.
func nullWhenEmpty(t history.EventType, member string) bool {
	return member == mInstanceID && t == history.ExecutionRewound
}

// complexNull is the value of a member of a class type that history.Event
// does not model (HistoryStateEvent.State): always null.
type complexNull struct{}

// eventMemberValue is the Go value behind an event's data member, typed
// so that each codec can render it: history.EventType,
// history.OrchestrationStatus, int, bool, string, *string, *int,
// time.Time, *time.Time, map[string]string (Tags) or one of the complex
// pointers (*history.OrchestrationInstance, *history.ParentInstance,
// *history.FailureDetails, *history.TraceContext), or complexNull.
func eventMemberValue(e *history.Event, member string) any {
	switch member {
	case mEventType:
		return e.Type
	case mEventID:
		return e.EventID
	case mIsPlayed:
		return e.IsPlayed
	case mTimestamp:
		return e.Timestamp
	case mOrchestrationInstance:
		return e.Instance
	case mParentInstance:
		return e.Parent
	case mName:
		return e.Name
	case mVersion:
		return e.Version
	case mInput:
		return e.Input
	case mTags:
		return e.Tags
	case mCorrelation:
		return e.Correlation
	case mParentTraceContext:
		return e.ParentTraceContext
	case mScheduledStartTime:
		return e.ScheduledStartTime
	case mGeneration:
		return e.Generation
	case mGenerateNewTrace:
		return e.GenerateNewTrace
	case mOrchestrationStatus:
		return e.OrchestrationStatus
	case mResult:
		return e.Result
	case mFailureDetails:
		return e.Failure
	case mTaskScheduledID:
		return e.TaskScheduledID
	case mReason:
		return e.Reason
	case mDetails:
		return e.Details
	case mInstanceID:
		if nullWhenEmpty(e.Type, member) {
			if e.InstanceID == "" {
				return (*string)(nil)
			}
			return &e.InstanceID
		}
		return e.InstanceID
	case mClientSpanID:
		return e.ClientSpanID
	case mFireAt:
		return e.FireAt
	case mTimerID:
		return e.TimerID
	case mData:
		return e.Data
	case mState:
		return complexNull{}
	case mParentExecutionID:
		return e.ParentExecutionID
	}
	panic("azstorage: unknown event member " + member)
}

// adoptExceptionDetails reads the failure of a TaskFailed or
// SubOrchestrationInstanceFailed that Durable Functions (.NET in-process,
// or any worker in its default error mode) wrote: no FailureDetails, and
// the exception as JSON in Details. Its class, message, stack and inner
// exception become the event's FailureDetails, so the orchestration sees
// the original error as it would in .NET.
func adoptExceptionDetails(e *history.Event) {
	if e.Failure != nil || e.Details == nil || (e.Type != history.TaskFailed && e.Type != history.SubOrchestrationInstanceFailed) {
		return
	}
	if f, ok := history.FailureFromExceptionJSON(*e.Details); ok {
		e.Failure = f
	}
}

package durable

import (
	"encoding/json"
	"time"
)

// The JSON formats of Durable Task entities (DurableTask.Core.Entities),
// member names and omission rules as .NET writes them.

// entityRequest is a RequestMessage: an operation, a signal or a lock
// request, carried as the Input of an EventRaised named "op".
type entityRequest struct {
	Op              *string         `json:"op"`
	Signal          bool            `json:"signal,omitempty"`
	Input           *string         `json:"input,omitempty"`
	ID              string          `json:"id"`
	Parent          *string         `json:"parent,omitempty"`
	ParentExecution *string         `json:"parentExecution,omitempty"`
	Due             *string         `json:"due,omitempty"`
	Timestamp       string          `json:"Timestamp"`
	Predecessor     string          `json:"Predecessor"`
	Lockset         []entityRef     `json:"lockset,omitempty"`
	Pos             int             `json:"pos,omitempty"`
	IsLockRequest   bool            `json:"IsLockRequest"`
	TraceContext    json.RawMessage `json:"parentTraceContext,omitempty"`
	CreateTrace     bool            `json:"createTrace"`
	RequestTime     *string         `json:"requestTime,omitempty"`
}

// entityRef is a lock set member: {"name":..,"key":..}.
type entityRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// entityResponse is a ResponseMessage, sent to the caller as an
// EventRaised named after the request id.
type entityResponse struct {
	Result         *string         `json:"result"`
	ExceptionType  string          `json:"exceptionType,omitempty"`
	FailureDetails *failureJSON    `json:"failureDetails,omitempty"`
	raw            json.RawMessage `json:"-"`
}

// failureJSON is FailureDetails as the entity formats serialize it.
type failureJSON struct {
	ErrorType      string       `json:"ErrorType"`
	ErrorMessage   string       `json:"ErrorMessage"`
	StackTrace     *string      `json:"StackTrace"`
	InnerFailure   *failureJSON `json:"InnerFailure"`
	IsNonRetriable bool         `json:"IsNonRetriable"`
}

// entityRelease is a ReleaseMessage: {"parent":..,"id":..}.
type entityRelease struct {
	Parent string `json:"parent"`
	ID     string `json:"id"`
}

// schedulerState is an entity's persistent state: the ExecutionStarted
// input of its (always three-row) history. "exists" is written for the
// Durable Functions 2.x readers that require it.
type schedulerState struct {
	State     *string         `json:"state,omitempty"`
	Queue     []entityRequest `json:"queue,omitempty"`
	LockedBy  string          `json:"lockedBy,omitempty"`
	Suspended bool            `json:"suspended,omitempty"`
	Sorter    json.RawMessage `json:"sorter,omitempty"`
	Exists    bool            `json:"exists,omitempty"`
	// Recent are the ids of unsorted requests accepted lately (see
	// recentLog); a member of this runtime that .NET readers ignore.
	Recent []recentGroup `json:"recentRequests,omitempty"`
}

// entityStatus is the entity's custom status column.
type entityStatus struct {
	EntityExists bool   `json:"entityExists,omitempty"`
	QueueSize    int    `json:"queueSize,omitempty"`
	LockedBy     string `json:"lockedBy,omitempty"`
}

// lockGranted is the result of a granted lock request.
const lockGranted = "Lock Acquisition Completed"

// minDotNetTime is DateTime.MinValue as Newtonsoft writes it.
const minDotNetTime = "0001-01-01T00:00:00"

func dotNetTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

package durable

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/history"
)

// RuntimeStatus is an instance's runtime status (Running, Completed, …).
type RuntimeStatus = history.OrchestrationStatus

// The runtime statuses, under Durable Functions' names.
const (
	StatusRunning        = history.StatusRunning
	StatusCompleted      = history.StatusCompleted
	StatusContinuedAsNew = history.StatusContinuedAsNew
	StatusFailed         = history.StatusFailed
	StatusCanceled       = history.StatusCanceled
	StatusTerminated     = history.StatusTerminated
	StatusPending        = history.StatusPending
	StatusSuspended      = history.StatusSuspended
)

// InstanceStatus is a snapshot of an orchestration instance, as the client
// reads it.
type InstanceStatus struct {
	Name          string
	InstanceID    string
	RuntimeStatus RuntimeStatus
	// Input, Output and CustomStatus are stored text, normally JSON; nil
	// means null. A failed instance's Output is its failure message.
	Input           *string
	Output          *string
	CustomStatus    *string
	CreatedTime     time.Time
	LastUpdatedTime time.Time
	// History is filled only when asked for (WithHistory).
	History []*history.Event
	// ExecutionID identifies the current execution (it changes on
	// continue-as-new and when the id is started again).
	ExecutionID string
	// Version is the orchestration version the instance was started with.
	Version string
	// Tags are the instance's tags (WithTags).
	Tags map[string]string
	// ScheduledStartTime is set for an instance started with
	// WithStartTime.
	ScheduledStartTime *time.Time
}

// IsTerminal reports whether the instance has finished for good.
func (s *InstanceStatus) IsTerminal() bool { return s.RuntimeStatus.IsTerminal() }

// OutputAs decodes the instance's output as JSON into a T.
func OutputAs[T any](s *InstanceStatus) (T, error) {
	var v T
	if s.Output == nil {
		return v, nil
	}
	if err := json.Unmarshal([]byte(*s.Output), &v); err != nil {
		return v, fmt.Errorf("durable: decode output of instance %q: %w", s.InstanceID, err)
	}
	return v, nil
}

// InputAs decodes the instance's input as JSON into a T.
func InputAs[T any](s *InstanceStatus) (T, error) {
	var v T
	if s.Input == nil {
		return v, nil
	}
	if err := json.Unmarshal([]byte(*s.Input), &v); err != nil {
		return v, fmt.Errorf("durable: decode input of instance %q: %w", s.InstanceID, err)
	}
	return v, nil
}

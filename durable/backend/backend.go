// Package backend defines the small interface between the durable engine and
// a storage provider, and the work items that cross it.
//
// The engine (dispatchers, replay, client) is written against Backend only;
// every storage detail (queues, tables, blobs, leases, message formats) lives
// in the provider. The Azure Storage provider is package azstorage.
package backend

import (
	"context"
	"errors"
	"time"

	"github.com/godurable/functions/durable/history"
)

// Errors a Backend returns; test with errors.Is.
var (
	// ErrInstanceNotFound: no instance with that id exists.
	ErrInstanceNotFound = errors.New("orchestration instance not found")
	// ErrInstanceExists: CreateInstance found a non-terminal instance with
	// that id (or one in a status the caller asked to keep).
	ErrInstanceExists = errors.New("orchestration instance already exists")
	// ErrConflict: a checkpoint lost a race with another writer (its
	// concurrency check failed). Nothing was written by the failing batch;
	// the work item must be abandoned and replayed.
	ErrConflict = errors.New("checkpoint conflict: instance history was changed by another worker")
	// ErrUnavailable: storage failed transiently and the operation was
	// certainly not applied; the caller may retry it later.
	ErrUnavailable = errors.New("storage is temporarily unavailable; nothing was changed, retry later")
	// ErrWorkItemLost: the work item's messages are gone or owned by someone
	// else (lease moved, visibility expired); drop it, it will be redelivered.
	ErrWorkItemLost = errors.New("work item lost")
)

// Backend is a durable storage provider.
//
// Fetch methods block until work is available or ctx is done (returning
// ctx.Err()). Every method is safe for concurrent use.
type Backend interface {
	// CreateTaskHub creates every queue, table and row the task hub needs,
	// leaving existing ones untouched.
	CreateTaskHub(ctx context.Context) error
	// DeleteTaskHub removes every resource of the task hub.
	DeleteTaskHub(ctx context.Context) error

	// Start begins background work (partition ownership, polling). Stop
	// releases what this worker owns; Start must not be called again.
	Start(ctx context.Context) error
	Stop(ctx context.Context) error

	// FetchOrchestrationWorkItem returns the next batch of messages for one
	// orchestration instance, with its history. The instance is locked to
	// this caller until Complete or Abandon.
	FetchOrchestrationWorkItem(ctx context.Context) (*OrchestrationWorkItem, error)
	// CompleteOrchestrationWorkItem commits a checkpoint: outbound messages,
	// then history (guarded against concurrent writers: ErrConflict), then
	// the instance status, then it removes the consumed messages.
	CompleteOrchestrationWorkItem(ctx context.Context, wi *OrchestrationWorkItem, cp *Checkpoint) error
	// AbandonOrchestrationWorkItem returns the messages for a later retry.
	AbandonOrchestrationWorkItem(ctx context.Context, wi *OrchestrationWorkItem, delay time.Duration) error

	// FetchActivityWorkItem returns the next scheduled activity.
	FetchActivityWorkItem(ctx context.Context) (*ActivityWorkItem, error)
	// CompleteActivityWorkItem sends the result (TaskCompleted or
	// TaskFailed) to the orchestration, then removes the work item.
	CompleteActivityWorkItem(ctx context.Context, wi *ActivityWorkItem, result *history.Event) error
	// AbandonActivityWorkItem makes the work item visible again after delay.
	AbandonActivityWorkItem(ctx context.Context, wi *ActivityWorkItem, delay time.Duration) error
	// RenewActivityWorkItem extends the work item's lock while it runs.
	RenewActivityWorkItem(ctx context.Context, wi *ActivityWorkItem) error

	// CreateInstance schedules a new orchestration from its ExecutionStarted
	// event (Instance, Name, Input, ScheduledStartTime set). It fails with
	// ErrInstanceExists if an instance with that id is in one of the
	// statuses in dedupe.
	CreateInstance(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus) error
	// SendEvent delivers an event (EventRaised, ExecutionTerminated,
	// ExecutionSuspended, ExecutionResumed, …) to an instance.
	SendEvent(ctx context.Context, to history.OrchestrationInstance, e *history.Event) error

	// GetInstance reads an instance's status; ErrInstanceNotFound if none.
	GetInstance(ctx context.Context, instanceID string, fetchPayloads bool) (*InstanceState, error)
	// GetHistory reads the current execution's history, oldest first.
	GetHistory(ctx context.Context, instanceID string) ([]*history.Event, error)
	// QueryInstances lists instances matching q, a page at a time.
	QueryInstances(ctx context.Context, q InstanceQuery) (*InstancePage, error)
	// PurgeInstance deletes all stored state of one instance;
	// ErrInstanceNotFound if none.
	PurgeInstance(ctx context.Context, instanceID string) error
	// RewindInstance turns a failed execution's failures back into pending
	// work: the failed results and the failed completion leave the
	// history (kept as GenericEvent "Rewound: …" rows), the instance goes
	// back to Pending and is woken, so its failed activities run again.
	RewindInstance(ctx context.Context, instanceID, reason string) error
}

// RunningHinter is an optional Backend interface. RunningHere reports,
// without reading storage, that an instance is running in this process:
// its worker holds the instance's unfinished history. False means only
// "not known here"; the caller must then read the status. A client uses
// it to skip the status read before sending an event to an instance.
type RunningHinter interface {
	RunningHere(instanceID string) bool
}

// NewInstanceCreator is an optional Backend interface. CreateNewInstance
// is CreateInstance for an instance id the caller generated at random
// just now, so that no instance can exist under it: the backend may skip
// looking for one. Its outcome is CreateInstance's in every case (should
// an instance exist after all, the backend starts the usual way).
type NewInstanceCreator interface {
	CreateNewInstance(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus) error
}

// OrchestrationWorkItem is one episode's input: new messages for one
// instance plus its stored history.
type OrchestrationWorkItem struct {
	InstanceID string
	// History is the current execution's stored history, oldest first.
	History []*history.Event
	// NewEvents are the inbound events, in delivery order.
	NewEvents []*history.Event
	// Messages are the inbound messages in the same order as NewEvents,
	// with their delivery metadata.
	Messages []*Message
	// Provider holds the backend's own state for this work item.
	Provider any
	// PoisonReason, when set, says a message for this instance could not
	// be processed after many attempts and was set aside: the episode
	// must fail the instance with this reason.
	PoisonReason string
}

// Message is one inbound message with its delivery metadata.
type Message struct {
	Event        *history.Event
	Target       history.OrchestrationInstance
	Sender       history.OrchestrationInstance
	DequeueCount int
	InsertedAt   time.Time
}

// Checkpoint is the outcome of one episode.
type Checkpoint struct {
	// NewEvents are appended to the work item's History. When the episode
	// continued as new, History is replaced: NewEvents is then the new
	// execution's whole history and Generation changes (ContinuedAsNew).
	NewEvents      []*history.Event
	ContinuedAsNew bool
	// Outbound messages: activities go to the activity queue, everything
	// else to the target instance's control queue.
	Outbound []OutboundMessage
	// Timers are TimerFired messages delivered to this instance at FireAt.
	Timers []OutboundMessage
	// State is the instance status after the episode.
	State InstanceUpdate
}

// OutboundMessage is a message an episode sends.
type OutboundMessage struct {
	Event  *history.Event
	Target history.OrchestrationInstance
	// VisibleAt delays delivery (timers); zero means now.
	VisibleAt time.Time
}

// InstanceUpdate is the instance-row part of a checkpoint.
type InstanceUpdate struct {
	RuntimeStatus history.OrchestrationStatus
	Output        *string // result, failure text or reason
	CustomStatus  *string
	CompletedTime time.Time // set when the status became terminal
}

// ActivityWorkItem is one scheduled activity call.
type ActivityWorkItem struct {
	Instance     history.OrchestrationInstance
	Scheduled    *history.Event // the TaskScheduled event (Name, Input, EventID)
	Episode      int
	DequeueCount int
	Provider     any
}

// InstanceState is what a backend knows of an instance.
type InstanceState struct {
	InstanceID         string
	ExecutionID        string
	Name               string
	Version            string
	RuntimeStatus      history.OrchestrationStatus
	Input              *string
	Output             *string
	CustomStatus       *string
	CreatedTime        time.Time
	LastUpdatedTime    time.Time
	CompletedTime      time.Time
	ScheduledStartTime *time.Time
	Generation         int
	Tags               map[string]string
}

// InstanceQuery filters QueryInstances. Zero fields don't filter.
type InstanceQuery struct {
	CreatedFrom       time.Time
	CreatedTo         time.Time
	RuntimeStatus     []history.OrchestrationStatus
	InstanceIDPrefix  string
	ExcludeEntities   bool
	FetchInputs       bool
	PageSize          int    // default 100
	ContinuationToken string // from a previous page; "" for the first
}

// InstancePage is one page of a query.
type InstancePage struct {
	Instances         []*InstanceState
	ContinuationToken string // "" when there are no more pages
}

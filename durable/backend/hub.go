package backend

import (
	"context"
	"time"
)

// HubInspector is an optional Backend interface: a read-only view of the
// task hub's partitions and queues, for dashboards and operators. It never
// changes stored state.
type HubInspector interface {
	InspectHub(ctx context.Context, opts HubInspectOptions) (*HubInfo, error)
}

// HubInspectOptions bounds what InspectHub reads.
type HubInspectOptions struct {
	// PoisonMessages is how many poison-queue messages to peek at (at most
	// 32, the storage service's limit per peek); 0 peeks none.
	PoisonMessages int
}

// HubInfo describes a task hub as its storage holds it now.
type HubInfo struct {
	TaskHub string `json:"taskHub"`
	// PartitionScheme names how partitions are owned ("table" for the
	// Partitions table, "blob-leases" for lease blobs).
	PartitionScheme string          `json:"partitionScheme"`
	Partitions      []PartitionInfo `json:"partitions"`
	// Workers are the distinct current owners of partitions.
	Workers []string    `json:"workers"`
	Queues  []QueueInfo `json:"queues"`
	// Poison are the first messages of the poison queue, oldest first.
	Poison []PoisonMessage `json:"poison"`
}

// PartitionInfo is one partition's ownership.
type PartitionInfo struct {
	Name         string    `json:"name"`
	CurrentOwner string    `json:"currentOwner,omitempty"`
	NextOwner    string    `json:"nextOwner,omitempty"`
	OwnedSince   time.Time `json:"ownedSince,omitzero"`
	LastRenewal  time.Time `json:"lastRenewal,omitzero"`
	ExpiresAt    time.Time `json:"expiresAt,omitzero"`
	IsDraining   bool      `json:"isDraining"`
}

// QueueInfo is one queue's depth.
type QueueInfo struct {
	Name string `json:"name"`
	// Kind is "control", "workitems" or "poison".
	Kind string `json:"kind"`
	// Exists is false for a queue that has not been created (the poison
	// queue is created on first use).
	Exists bool `json:"exists"`
	// ApproximateMessages is the service's approximate message count.
	ApproximateMessages int `json:"approximateMessages"`
	// OldestMessage is when the first visible message was inserted (zero
	// when none is visible).
	OldestMessage time.Time `json:"oldestMessage,omitzero"`
}

// PoisonMessage is a message set aside in the poison queue.
type PoisonMessage struct {
	MessageID    string    `json:"messageId"`
	InsertedAt   time.Time `json:"insertedAt"`
	DequeueCount int64     `json:"dequeueCount"`
	// Body is the message text as stored (JSON for this runtime's poison
	// records).
	Body string `json:"body"`
}

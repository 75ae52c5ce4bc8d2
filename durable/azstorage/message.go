package azstorage

import (
	"encoding/base64"
	"fmt"

	"github.com/godurable/functions/durable/history"
)

// The .NET type names written as "$type" (spec §2.3): full names, no
// assembly suffix.
const (
	typeMessageData      = "DurableTask.AzureStorage.MessageData"
	typeTaskMessage      = "DurableTask.Core.TaskMessage"
	typeInstance         = "DurableTask.Core.OrchestrationInstance"
	typeExecutionContext = "DurableTask.Core.OrchestrationExecutionContext"
	typeParentInstance   = "DurableTask.Core.ParentInstance"
	typeFailureDetails   = "DurableTask.Core.FailureDetails"
	typeTraceContext     = "DurableTask.Core.Tracing.DistributedTraceContext"
	typeHistoryPrefix    = "DurableTask.Core.History."
	typeStringDictionary = "System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],[System.String, System.Private.CoreLib]]"
	typeObjectDictionary = "System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],[System.Object, System.Private.CoreLib]]"
)

// MessageData is DurableTask.AzureStorage's queue message envelope.
type MessageData struct {
	ActivityID  string       // a GUID per message, for tracing only
	TaskMessage *TaskMessage // nil in a large-message wrapper
	// CompressedBlobName names the blob holding the real message when it
	// was too large for a queue (large-message wrapper).
	CompressedBlobName *string
	SequenceNumber     int64 // per-process counter; an ordering tie-breaker
	// Episode is the sender's episode number; omitted when nil.
	Episode *int
	// Sender is the instance that sent the message; omitted when nil.
	Sender                   *history.OrchestrationInstance
	SerializableTraceContext *string
}

// TaskMessage is DurableTask.Core's TaskMessage: an event addressed to an
// orchestration instance.
type TaskMessage struct {
	Event          *history.Event
	SequenceNumber int64
	// OrchestrationInstance is the target; an empty ExecutionID is written
	// as null ("the current execution").
	OrchestrationInstance history.OrchestrationInstance
	// ExecutionContext is set on activity and sub-orchestration requests.
	ExecutionContext *ExecutionContext
}

// ExecutionContext is DurableTask.Core's OrchestrationExecutionContext.
type ExecutionContext struct {
	OrchestrationTags map[string]string
}

// EncodeBase64 is the base64 form of a message body, for hubs shared with
// Durable Task 1.x workers.
func EncodeBase64(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// LargeMessageBlobName is the blob a too-large message is offloaded to:
// "{instanceId}/message-{activityId:N}-{EventType}.json.gz".
func LargeMessageBlobName(instanceID, activityID string, t history.EventType) string {
	n := make([]byte, 0, 32)
	for i := 0; i < len(activityID); i++ {
		if activityID[i] != '-' {
			n = append(n, activityID[i])
		}
	}
	return fmt.Sprintf("%s/message-%s-%s.json.gz", instanceID, n, t)
}

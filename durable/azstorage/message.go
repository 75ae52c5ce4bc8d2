package azstorage

import (
	"strings"

	"github.com/godurable/functions/durable/history"
)

// The .NET type names written as "$type": full names without
// an assembly suffix, as DurableTask.AzureStorage's type binder writes
// them.
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

// maxInlineMessageBytes is the largest serialized message (UTF-8 bytes of
// its JSON) sent inline; a larger one goes to a blob in the large-message
// container and the queue gets a wrapper naming it.
const maxInlineMessageBytes = 45 * 1024

// emptyGUID is Guid.Empty, the ActivityId of a message that has none.
const emptyGUID = "00000000-0000-0000-0000-000000000000"

// MessageData is DurableTask.AzureStorage's queue message envelope.
type MessageData struct {
	// ActivityID is a GUID ("D" format) per message, for tracing only.
	// Empty is written as Guid.Empty.
	ActivityID string
	// TaskMessage is the payload; nil in a large-message wrapper.
	TaskMessage *TaskMessage
	// CompressedBlobName names the large-message blob holding the real
	// message; set only in a large-message wrapper.
	CompressedBlobName *string
	// SequenceNumber is a per-process counter, an ordering tie-breaker.
	SequenceNumber int64
	// Episode is the sender's episode number; omitted from the JSON when
	// nil.
	Episode *int
	// Sender is the instance that sent the message (written without
	// "$type"); omitted from the JSON when nil. Clients send an instance
	// with empty IDs.
	Sender *history.OrchestrationInstance
	// SerializableTraceContext is legacy correlation data; usually nil.
	SerializableTraceContext *string
}

// IsLargeMessageWrapper reports a wrapper whose real message is in the
// blob CompressedBlobName: the caller downloads it, gunzips it and
// decodes that body instead.
func (m *MessageData) IsLargeMessageWrapper() bool {
	return m.TaskMessage == nil && m.CompressedBlobName != nil && *m.CompressedBlobName != ""
}

// TaskMessage is DurableTask.Core's TaskMessage: an event addressed to an
// orchestration instance.
type TaskMessage struct {
	Event *history.Event
	// SequenceNumber is always 0 in practice.
	SequenceNumber int64
	// OrchestrationInstance is the target. An empty ExecutionID is written
	// as null, meaning "whatever execution is current" (raise event,
	// terminate, suspend, resume, entity messages).
	OrchestrationInstance history.OrchestrationInstance
	// ExecutionContext is set on activity and sub-orchestration start
	// messages only; nil is written as null.
	ExecutionContext *ExecutionContext
}

// ExecutionContext is DurableTask.Core's OrchestrationExecutionContext.
type ExecutionContext struct {
	// OrchestrationTags are the sending orchestration's tags; nil is
	// written as null, an empty map as an empty dictionary.
	OrchestrationTags map[string]string
}

// largeMessageWrapper is the envelope enqueued in place of a message that
// was offloaded to blob blobName: no TaskMessage, an empty
// ActivityId and no Sender.
func largeMessageWrapper(blobName string) *MessageData {
	return &MessageData{ActivityID: emptyGUID, CompressedBlobName: &blobName}
}

// largeMessageBlobName is the blob a too-large message is offloaded to:
// "{instanceId}/message-{activityId:N}-{EventType}.json.gz", with the raw
// (unescaped) instance ID, the activity GUID without hyphens in lowercase,
// and the event type's enum name.
func largeMessageBlobName(instanceID, activityID string, t history.EventType) string {
	n := strings.ToLower(strings.ReplaceAll(activityID, "-", ""))
	return instanceID + "/message-" + n + "-" + t.String() + ".json.gz"
}

// Package history is the Durable Task event model: the history events an
// orchestration records, the runtime statuses an instance goes through and the
// failure details a failed task carries.
//
// The model is storage-neutral. Its names and numbers follow DurableTask.Core
// (EventType and OrchestrationStatus values are part of the wire format and
// must never be reordered); the encodings into queue messages and table rows
// live with the storage backend.
package history

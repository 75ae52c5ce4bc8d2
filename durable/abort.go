package durable

import (
	"context"
	"errors"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// ErrSessionAborted, returned (or wrapped) by an orchestrator or an
// activity, abandons the work item instead of failing it, as Durable
// Task's SessionAbortedException does: nothing of the episode or of the
// activity call is recorded, its messages go back to the queue and are
// processed again shortly. Use it for a transient condition the function
// detects itself (a dependency that is briefly unavailable). The
// orchestration never sees the aborted attempt.
var ErrSessionAborted = errors.New("durable: work item aborted")

// abortRetryDelay is how long an aborted work item's messages stay hidden.
const abortRetryDelay = 100 * time.Millisecond

// abortedEpisode is the checkpoint runEpisode returns for an orchestrator
// that aborted its work item; it is never committed.
var abortedEpisode = &backend.Checkpoint{}

// abandonAborted returns an aborted episode's messages to the queue.
func (w *Worker) abandonAborted(ctx context.Context, wi *backend.OrchestrationWorkItem) {
	w.log.Info("orchestrator aborted its work item; the episode will run again", "instanceId", wi.InstanceID)
	if err := w.be.AbandonOrchestrationWorkItem(ctx, wi, abortRetryDelay); err != nil {
		w.log.Warn("abandoning an aborted orchestration work item failed", "instanceId", wi.InstanceID, "error", err)
	}
}

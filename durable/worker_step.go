package durable

import (
	"context"

	"github.com/godurable/functions/durable/backend"
)

// ProcessOrchestrationWorkItem runs one episode of a work item fetched from
// the worker's backend and commits its checkpoint (or abandons the work
// item when the commit fails), synchronously. Run does this for every work
// item it fetches; call it directly only to drive a backend step by step,
// as package durabletest does.
func (w *Worker) ProcessOrchestrationWorkItem(ctx context.Context, wi *backend.OrchestrationWorkItem) {
	w.processOrchestration(ctx, wi)
}

// ProcessActivityWorkItem runs one activity work item fetched from the
// worker's backend and completes it with its result, synchronously; like
// ProcessOrchestrationWorkItem, it is for driving a backend step by step.
// It returns once the activity and its lock renewal have ended.
func (w *Worker) ProcessActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem) {
	w.processActivity(ctx, wi)
}

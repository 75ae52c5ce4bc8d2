package azstorage

import (
	"context"
	"strings"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// findTerminate returns the first ExecutionTerminated among msgs.
func findTerminate(msgs []*queueMessage) *history.Event {
	for _, m := range msgs {
		if e := m.data.TaskMessage.Event; e.Type == history.ExecutionTerminated {
			return e
		}
	}
	return nil
}

// terminateNeverStarted ends an instance whose start has not run yet (a
// scheduled start still hidden in the queue, or a start still on its
// way) when it is terminated, as Durable Task does: its
// Instances row becomes Terminated with the reason as output, and the
// start, when it comes, is discarded (startTerminated).
func (b *Backend) terminateNeverStarted(ctx context.Context, instanceID string, terminated *history.Event) error {
	row := terminatedInstanceRow(instanceID, terminated, time.Now().UTC())
	if err := b.mergeInstanceRow(ctx, instanceID, row, "terminate"); err != nil {
		return err
	}
	b.log.Info("terminated an instance before it started", "instanceId", instanceID)
	return nil
}

// startTerminated reports a start message for an execution that was
// terminated before it started: the Instances row of that very execution
// already says Terminated.
func startTerminated(st *backend.InstanceState, found bool, execID string) bool {
	return found && st.RuntimeStatus == history.StatusTerminated && st.ExecutionID != "" && strings.EqualFold(st.ExecutionID, execID)
}

package azstorage

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// The Instances row is a status view of the history: an episode's commit
// needs the outbound messages and the history batch in sequence, but not
// the row. So the row is written in the background, right after its
// history, and the instance's next episode does not wait for it: one
// storage round trip fewer on the critical path of every step.
//
// Guarantees:
//   - Always after its history: a row update is queued only once the
//     history batch it describes has been written.
//   - In order and coalesced: one writer per instance writes its updates
//     one after the other; updates queued while a write is in flight are
//     merged column by column (InsertOrMerge replaces whole columns, so
//     merging two updates equals applying them in turn) into one write.
//   - Never lost: the messages an episode consumed are deleted only after
//     its row is written. If the process dies first, they are delivered
//     again; the history then read from storage already has the episode,
//     and buildWorkItem rewrites the row from it (repairRow) before the
//     duplicates are dropped. A finished instance's row is repaired the
//     same way (repairFinishedRow, spec §7.4).
//   - Read your writes: this process's own reads of a row (status
//     queries, start deduplication) first wait for the row's pending
//     write (settleRow). Other processes may see a row one write behind
//     for the duration of a request.
type rowWriter struct {
	mu   sync.Mutex
	jobs map[string]*rowJob // instances with a row write queued or in flight
}

// rowJob is one instance's queued row update.
type rowJob struct {
	row   map[string]any  // columns not yet written (nil: nothing queued)
	msgs  []*queueMessage // consumed messages to delete once the row is written
	blobs []string        // blobs of a replaced execution to delete then
	done  chan struct{}   // closed when the instance has nothing left to write
}

// writeRowLater queues an episode's row update after its history was
// written. msgs are deleted and blobs removed once the row is written.
func (b *Backend) writeRowLater(ctx context.Context, instanceID string, row map[string]any, msgs []*queueMessage, blobs []string) {
	w := &b.rows
	w.mu.Lock()
	if w.jobs == nil {
		w.jobs = map[string]*rowJob{}
	}
	j, running := w.jobs[instanceID]
	if !running {
		j = &rowJob{done: make(chan struct{})}
		w.jobs[instanceID] = j
	}
	if j.row == nil {
		j.row = map[string]any{}
	}
	maps.Copy(j.row, row)
	j.msgs = append(j.msgs, msgs...)
	j.blobs = append(j.blobs, blobs...)
	w.mu.Unlock()
	if running {
		return
	}
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		b.runRowJob(context.WithoutCancel(ctx), instanceID, j)
	}()
}

// runRowJob writes an instance's queued row updates until none is left.
func (b *Backend) runRowJob(ctx context.Context, instanceID string, j *rowJob) {
	w := &b.rows
	for {
		w.mu.Lock()
		row, msgs, blobs := j.row, j.msgs, j.blobs
		j.row, j.msgs, j.blobs = nil, nil, nil
		if row == nil {
			delete(w.jobs, instanceID)
			close(j.done)
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		if err := b.writeRowRetrying(ctx, instanceID, row); err != nil {
			// The consumed messages stay: they come back after their
			// visibility timeout and the row is repaired from history.
			b.log.Warn("writing the Instances row failed; it will be repaired from history when the episode's messages are delivered again",
				"instanceId", instanceID, "error", err)
			continue
		}
		b.deleteBlobs(ctx, instanceID, blobs)
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := b.deleteAll(dctx, msgs); err != nil {
			b.log.Warn("deleting processed messages failed; they will be delivered again and dropped as duplicates",
				"instanceId", instanceID, "error", err)
		}
		cancel()
	}
}

// writeRowRetrying merges a row, retrying transient failures for up to a
// minute.
func (b *Backend) writeRowRetrying(ctx context.Context, instanceID string, row map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		// mergeInstanceRow may rewrite large columns in place: give it a copy.
		err := b.mergeInstanceRow(ctx, instanceID, maps.Clone(row), "update")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// settleRow waits until this process has no row write pending for the
// instance, so that a read of the row sees every committed episode.
func (b *Backend) settleRow(ctx context.Context, instanceID string) {
	b.rows.mu.Lock()
	j := b.rows.jobs[instanceID]
	b.rows.mu.Unlock()
	if j == nil {
		return
	}
	select {
	case <-j.done:
	case <-ctx.Done():
	}
}

// repairRow rewrites the Instances row of an unfinished instance from its
// history (custom status aside) when a message is delivered again: the
// worker that consumed it may have died after writing the history but
// before writing the row. Finished instances are repaired by
// repairFinishedRow.
func (b *Backend) repairRow(ctx context.Context, instanceID string, h *storedHistory, msgs []*queueMessage) error {
	redelivered := false
	for _, m := range msgs {
		redelivered = redelivered || m.dequeueCount > 1
	}
	if !redelivered || len(h.events) == 0 || isFinished(h.events) || findEvent(h.events, history.ExecutionStarted) == nil {
		return nil
	}
	row := CheckpointInstanceRow(b.opts.TaskHub, instanceID, h.executionID, h.events, backend.InstanceUpdate{})
	delete(row, "CustomStatus")
	return b.mergeInstanceRow(ctx, instanceID, row, "repair")
}

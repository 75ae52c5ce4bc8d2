package azstorage

import (
	"cmp"
	"context"
	"fmt"
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
			// Given up (this worker stopped, or lost the instance's
			// partition): the consumed messages are put back rather than
			// held. They come again, to this worker or the partition's
			// next owner, and the row is repaired from history then.
			b.log.Warn("writing the Instances row failed; it will be repaired from history when the episode's messages are delivered again",
				"instanceId", instanceID, "error", err)
			b.letGo(ctx, msgs)
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

// writeRowRetrying merges a row, retrying failures with backoff for as
// long as this worker runs and owns the instance's partition: the
// episode's messages stay held meanwhile, so its row is never lost. It
// gives up when the partition is lost (its next owner writes the rows
// now) or, once the worker stops, after rowRetryFor more (a minute).
func (b *Backend) writeRowRetrying(ctx context.Context, instanceID string, row map[string]any) error {
	every := cmp.Or(b.rowRetryFor, time.Minute)
	queue, _ := b.controlQueue(instanceID)
	var stopping <-chan struct{}
	if rc := b.runCtx.Load(); rc != nil {
		stopping = (*rc).Done()
	}
	delay := 100 * time.Millisecond
	var deadline time.Time // once stopping
	warned := time.Now()
	for {
		// mergeInstanceRow may rewrite large columns in place: give it a copy.
		wctx, cancel := context.WithTimeout(ctx, every)
		err := b.mergeInstanceRow(wctx, instanceID, maps.Clone(row), "update")
		cancel()
		if err == nil {
			return nil
		}
		switch {
		case stopping == nil && deadline.IsZero():
			deadline = time.Now().Add(every) // no worker running: a bounded retry
		case stopping != nil && deadline.IsZero():
			select {
			case <-stopping:
				deadline = time.Now().Add(every)
			default:
			}
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return err
		}
		if b.parts != nil && !b.parts.owns(queue) {
			return fmt.Errorf("%w (the partition is no longer this worker's)", err)
		}
		if time.Since(warned) >= every {
			warned = time.Now()
			b.log.Warn("writing the Instances row keeps failing; still retrying", "instanceId", instanceID, "error", err)
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
	// A message delivered again, or one whose episode history already has
	// (an activity result handed back after its row write was given up),
	// says an earlier episode may not have written its row.
	redelivered := false
	answered := answeredIDs(h.events)
	for _, m := range msgs {
		redelivered = redelivered || m.dequeueCount > 1
		if m.data != nil && m.data.TaskMessage != nil {
			e := m.data.TaskMessage.Event
			redelivered = redelivered || (isResponse(e) && answered[responseID(e)])
		}
	}
	if !redelivered || len(h.events) == 0 || isFinished(h.events) || findEvent(h.events, history.ExecutionStarted) == nil {
		return nil
	}
	row := checkpointInstanceRowNow(b.opts.TaskHub, instanceID, h.executionID, h.events, backend.InstanceUpdate{})
	delete(row, "CustomStatus")
	return b.mergeInstanceRow(ctx, instanceID, row, "repair")
}

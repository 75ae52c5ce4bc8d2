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
//   - Status changes at once, quiet updates within rowDeferral: an update
//     that changes nothing but LastUpdatedTime (the instance was Running
//     by this writer's previous update, moments ago, and still is, with no
//     custom status and no other column) waits up to rowDeferral for the
//     instance's next update and is written with it; a sequence of
//     activity steps costs one row write per second rather than one per
//     step. Anything else — a new status, a custom status, an output, the
//     first episode — is written at once, with whatever waits.
//   - Never lost: the messages an episode consumed are deleted only after
//     its row is written (those of a quiet update once a later quiet
//     update, whose messages are kept, supersedes it). If the process dies
//     first, they are delivered again; the history then read from storage
//     already has the episode, and buildWorkItem rewrites the row from it
//     (repairRow) before the duplicates are dropped. A finished
//     instance's row is repaired the same way (repairFinishedRow).
//   - Read your writes: this process's own reads of a row first wait for
//     the row's write in flight; a status read (GetInstance) adds the
//     columns of the quiet updates still waiting to what it reads, the
//     row as it will be once they are written, and every other read
//     (start deduplication, a new start over the row) has them written
//     first. Other processes may see a row one write behind: for the
//     duration of a request, or up to rowDeferral for LastUpdatedTime.
type rowWriter struct {
	mu   sync.Mutex
	jobs map[string]*rowJob // instances with a row write queued, in flight, or just done
}

// rowDeferral is how long a quiet row update may wait for the next one.
const rowDeferral = time.Second

// rowJob is one instance's row writer and its queued update.
type rowJob struct {
	row   map[string]any  // columns not yet written (nil: nothing queued)
	msgs  []*queueMessage // consumed messages to delete once the row is written
	blobs []string        // blobs of a replaced execution to delete then
	loud  bool            // row holds an update that is not quiet: no waiting
	// running is whether the last update queued left the instance Running
	// with no custom status: a quiet-looking update after it changes
	// nothing but LastUpdatedTime.
	running bool

	queued, written int           // updates queued, and written (or given up on), so far
	deferring       bool          // a quiet update waits (up to rowDeferral) for more
	urgent          int           // readers waiting for the queued updates: no waiting
	wake            chan struct{} // closed to end a wait early (nil when not waiting)
	changed         chan struct{} // closed when written grows or a wait begins, then replaced
}

// signal wakes the job if it waits, and readers watching it; w.mu is held.
func (j *rowJob) signal(wakeJob bool) {
	if wakeJob && j.wake != nil {
		close(j.wake)
		j.wake = nil
	}
	close(j.changed)
	j.changed = make(chan struct{})
}

// quietColumns are the columns of an update that only moves
// LastUpdatedTime of a running instance (checkpointInstanceRow).
var quietColumns = map[string]bool{"PartitionKey": true, "RowKey": true, "CustomStatus": true, "ExecutionId": true,
	"LastUpdatedTime": true, "LastUpdatedTime" + edmAnnotationSuffix: true, "TaskHubName": true, "RuntimeStatus": true}

// runningRow reports an update that leaves the instance Running with no
// custom status.
func runningRow(row map[string]any) bool {
	return row["RuntimeStatus"] == history.StatusRunning.String() && row["CustomStatus"] == customStatusUnset
}

// quietRow reports an update with no column but those of quietColumns
// that leaves the instance Running with no custom status.
func quietRow(row map[string]any) bool {
	if !runningRow(row) {
		return false
	}
	for k := range row {
		if !quietColumns[k] {
			return false
		}
	}
	return true
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
		j = &rowJob{changed: make(chan struct{})}
		w.jobs[instanceID] = j
	}
	// Quiet only after an update of this writer that left the instance
	// running: the status it knows is its own, and recent.
	quiet := running && j.running && quietRow(row)
	j.running = runningRow(row)
	// A quiet update that supersedes quiet ones still waiting lets their
	// messages go now: its own stay until the row is written, and if this
	// process dies first their delivery again has the row repaired from
	// the history, which has every episode. (Fewer messages held keeps
	// queue operations cheap.)
	var superseded []*queueMessage
	if quiet && j.row != nil && !j.loud && len(msgs) > 0 {
		superseded, j.msgs = j.msgs, nil
	}
	if j.row == nil {
		j.row = map[string]any{}
	}
	maps.Copy(j.row, row)
	j.msgs = append(j.msgs, msgs...)
	j.blobs = append(j.blobs, blobs...)
	j.queued++
	if !quiet {
		j.loud = true
		j.deferring = false // status readers wait for the write from now on
	}
	// A job lingering after a write, or waiting on quiet updates, looks
	// again: a loud update goes out now.
	j.signal(!quiet || !j.deferring)
	w.mu.Unlock()
	b.deleteLater(ctx, instanceID, superseded)
	if running {
		return
	}
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		b.runRowJob(context.WithoutCancel(ctx), instanceID, j)
	}()
}

// stopping is closed when the backend stops (or before it started).
func (b *Backend) stopping() <-chan struct{} {
	if rc := b.runCtx.Load(); rc != nil {
		return (*rc).Done()
	}
	return closedChan
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// sleep waits for d, wake or stop.
func sleep(d time.Duration, wake, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-wake:
	case <-stop:
	}
}

// runRowJob writes an instance's queued row updates until none is left,
// quiet ones after up to b.rowDeferral; then it lingers as long, so that
// a quiet update soon after can wait too, and ends.
func (b *Backend) runRowJob(ctx context.Context, instanceID string, j *rowJob) {
	w := &b.rows
	stop := b.stopping()
	lingered := false
	for {
		w.mu.Lock()
		stopped := isClosed(stop)
		switch {
		case j.row == nil && (lingered || stopped || b.rowDeferral <= 0):
			delete(w.jobs, instanceID)
			w.mu.Unlock()
			return
		case j.row == nil:
			lingered = true
			j.wake = make(chan struct{})
			wake := j.wake
			w.mu.Unlock()
			sleep(b.rowDeferral, wake, stop)
			continue
		case !j.loud && j.urgent == 0 && !stopped && b.rowDeferral > 0:
			j.deferring = true
			j.wake = make(chan struct{})
			wake := j.wake
			j.signal(false) // status readers now add the waiting columns
			w.mu.Unlock()
			sleep(b.rowDeferral, wake, stop)
			w.mu.Lock()
			j.deferring = false
			j.wake = nil
		}
		lingered = false
		row, msgs, blobs, upTo := j.row, j.msgs, j.blobs, j.queued
		j.row, j.msgs, j.blobs, j.loud = nil, nil, nil, false
		w.mu.Unlock()
		err := b.writeRowRetrying(ctx, instanceID, row)
		w.mu.Lock()
		j.written = upTo
		j.signal(false)
		w.mu.Unlock()
		if err != nil {
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

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
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
	stop := b.stopping() // closed as well when no worker runs: then a bounded retry
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
		if deadline.IsZero() && isClosed(stop) {
			deadline = time.Now().Add(every)
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

// settleRow waits until this process has written every row update it
// queued for the instance so far (quiet ones waiting are written now), so
// that a read of the row sees every committed episode.
func (b *Backend) settleRow(ctx context.Context, instanceID string) {
	w := &b.rows
	w.mu.Lock()
	j := w.jobs[instanceID]
	if j == nil || j.written >= j.queued {
		w.mu.Unlock()
		return
	}
	j.urgent++
	j.signal(true)
	w.awaitWrites(ctx, j, j.queued, nil)
	j.urgent--
	w.mu.Unlock()
}

// awaitWrites waits until j has written (or given up on) every update up
// to target, stop (if any) reports true, or ctx ends; it reports false
// only for the last. w.mu is held on entry and on return.
func (w *rowWriter) awaitWrites(ctx context.Context, j *rowJob, target int, stop func() bool) bool {
	for j.written < target {
		if stop != nil && stop() {
			return true
		}
		changed := j.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			w.mu.Lock()
			return false
		}
		w.mu.Lock()
	}
	return true
}

// pendingRowColumns is settleRow for a status read: it waits for the
// instance's row write in flight, and returns the columns of the quiet
// updates still waiting (nil if none), which the read adds to the row it
// reads: the row as it will be once they are written.
func (b *Backend) pendingRowColumns(ctx context.Context, instanceID string) map[string]any {
	w := &b.rows
	w.mu.Lock()
	defer w.mu.Unlock()
	j := w.jobs[instanceID]
	if j == nil {
		return nil
	}
	target := j.queued
	if w.awaitWrites(ctx, j, target, func() bool { return j.deferring }) && j.written < target {
		return maps.Clone(j.row) // deferring: the quiet updates still wait
	}
	return nil
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

package azstorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// CreateInstance implements backend.Backend (client create):
// read the row, refuse a live duplicate, enqueue ExecutionStarted first,
// then write the Pending row with the same execution id and generation.
//
// The answer is what really happened. A write whose answer was lost (a
// 500, a timeout, a reset connection) is resolved by reading the row
// back: the start took effect exactly when the row names this start's
// execution. A start that did not take effect fails with
// backend.ErrUnavailable; its start message, if one was enqueued, is
// deleted when that is safe, and otherwise discarded by the worker as an
// orphan once StartWriteTimeout has certainly passed (dedupeStart).
//
// When this process owns the instance's partition, the start message is
// enqueued invisible (as the safety net: it reappears within a
// visibility timeout if this process dies) and handed to the worker
// directly once the row is written, so no poll has to find it and no
// poll can find it before its row exists.
func (b *Backend) CreateInstance(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus) error {
	return b.createInstance(ctx, start, dedupe, false)
}

// CreateNewInstance implements backend.NewInstanceCreator: the client
// generated the instance id at random just now, so no row can exist under
// it and the row is not read first; the row is inserted, a write that
// fails only if a row exists after all. Should one exist, the start
// message is withdrawn and the start made again as CreateInstance makes
// it, so the outcome is the same either way.
func (b *Backend) CreateNewInstance(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus) error {
	return b.createInstance(ctx, start, dedupe, true)
}

// errRowExists is resolveStart's answer when a start that assumed no row
// (CreateNewInstance) finds a row naming another execution.
var errRowExists = errors.New("azstorage: an instance row exists under the new id")

// startMessage is a start's enqueued message: the enqueue's answer, and
// the hold on it when it is to be handed over in process.
type startMessage struct {
	queue   string
	sent    azqueue.EnqueueMessagesResponse
	held    *queueMessage // nil: enqueued visible, for the poller
	deliver func(*queueMessage)
	dropped bool
}

// drop deletes the message of a start that did not take effect (best
// effort: the worker discards it as an orphan otherwise).
func (b *Backend) dropStart(ctx context.Context, sm *startMessage) {
	sm.dropped = true
	if sm.held == nil {
		b.dropStartMessage(ctx, sm.queue, sm.sent)
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := b.deleteMessage(dctx, sm.held); err != nil {
		b.log.Debug("deleting the message of a failed start failed; it is discarded as an orphan later", "messageId", sm.held.id, "error", err)
	}
}

// handOver gives a held start message to the worker (unless it was
// dropped); the start dedupe then decides, as for a dequeued one.
func (sm *startMessage) handOver() {
	if sm.held != nil && !sm.dropped {
		sm.deliver(sm.held)
	}
}

func (b *Backend) createInstance(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus, assumeNew bool) error {
	if start.Type != history.ExecutionStarted || start.Instance == nil || start.Instance.InstanceID == "" {
		return fmt.Errorf("azstorage: CreateInstance needs an ExecutionStarted event with an instance id")
	}
	id := start.Instance.InstanceID
	// The row is written before this deadline or never: a start message
	// with no row after it (plus a margin) is an orphan.
	wctx, cancel := context.WithTimeout(ctx, b.opts.StartWriteTimeout)
	defer cancel()
	var (
		row   map[string]any
		etag  azcore.ETag
		found bool
		err   error
	)
	if !assumeNew {
		row, etag, found, err = b.readInstanceRow(wctx, id)
		if err != nil {
			return b.notStarted(ctx, id, "read the instance row", err)
		}
	}
	gen := 0
	if found {
		st, err := rowToInstanceState(row)
		if err != nil {
			return fmt.Errorf("azstorage: instance row of %q: %w", id, err)
		}
		for _, s := range dedupe {
			if st.RuntimeStatus == s {
				return fmt.Errorf("azstorage: instance %q is %s: %w", id, s, backend.ErrInstanceExists)
			}
		}
		gen = st.Generation + 1
	}
	start.Generation = &gen
	queue, part := b.controlQueue(id)
	var delay time.Duration
	if start.ScheduledStartTime != nil {
		delay = time.Until(*start.ScheduledStartTime)
	}
	msg := b.newMessage(start, *start.Instance, history.OrchestrationInstance{}, nil)
	body, blob, err := b.encodeQueueMessage(wctx, msg)
	if err != nil {
		return b.notStarted(ctx, id, "store the start message", err)
	}
	opts := enqueueOptions(delay)
	var local *localTarget
	if delay <= 0 {
		local = b.localDelivery(queue, 0)
	}
	if local != nil {
		opts.VisibilityTimeout = to.Ptr(seconds(local.visibility))
	}
	sent := time.Now()
	resp, err := b.queue(queue).EnqueueMessage(wctx, body, opts)
	if err != nil {
		// A copy may have been enqueued (an attempt's answer was lost);
		// no row will ever name its execution, so it is discarded.
		return b.notStarted(ctx, id, "enqueue the start message", err)
	}
	sm := &startMessage{queue: queue, sent: resp}
	if local != nil && len(resp.Messages) == 1 {
		sm.held, sm.deliver = b.holdEnqueued(queue, body, msg, resp.Messages[0], local.visibility, sent), local.deliver
	}
	newRow := pendingInstanceRowNow(b.opts.TaskHub, start)
	if blob != "" {
		newRow["Input"] = b.blobURL(blob) // the whole start message is in that blob
	} else if _, err := b.offloadLargeProperties(wctx, newRow); err != nil {
		// An input too large for a column but not for a queue message:
		// Input "" and InputBlobName, as DurableTask's SetNewExecutionAsync
		// writes it.
		b.dropStart(ctx, sm)
		return b.notStarted(ctx, id, "store the input", err)
	}
	if err := b.offloadTags(wctx, newRow); err != nil {
		b.dropStart(ctx, sm)
		return b.notStarted(ctx, id, "store the tags", err)
	}
	rowBody, err := json.Marshal(newRow)
	if err != nil {
		b.dropStart(ctx, sm)
		return fmt.Errorf("azstorage: encode instance row of %q: %w", id, err)
	}
	began := time.Now()
	write := func(ctx context.Context) (maybeApplied bool, err error) {
		actx, tried := trackAttempts(ctx)
		if !found {
			_, err = b.instances().AddEntity(actx, rowBody, nil)
		} else {
			_, err = b.instances().UpdateEntity(actx, rowBody, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
		}
		return tried.MaybeApplied(), err
	}
	if maybe, err := write(wctx); err != nil {
		if err := b.resolveStart(ctx, start, dedupe, err, maybe, write, began, sm, assumeNew); err != nil {
			if errors.Is(err, errRowExists) {
				b.dropStart(ctx, sm)
				return b.createInstance(ctx, start, dedupe, false)
			}
			sm.handOver() // its row may yet appear: the worker's start dedupe waits for it or discards it
			return err
		}
	}
	switch {
	case delay > 0:
		b.scheduledStart(ctx, queue, msg, body, resp, sent.Add(delay)) // timerwake.go
	case sm.held != nil:
		sm.handOver()
	default:
		b.wakePartition(part)
	}
	return nil
}

// notStarted is the error of a start that certainly did not take effect.
func (b *Backend) notStarted(ctx context.Context, id, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("azstorage: start %q: %s: %w", id, step, err)
	}
	return fmt.Errorf("azstorage: start %q: %s: %w: %w", id, step, backend.ErrUnavailable, err)
}

// readStartRow reads the row back for resolveStart, retrying briefly.
func (b *Backend) readStartRow(ctx context.Context, id string) (st *backend.InstanceState, found bool, err error) {
	for try := 0; try < 5; try++ {
		var row map[string]any
		if row, _, found, err = b.readInstanceRow(ctx, id); err == nil && found {
			st, err = rowToInstanceState(row)
		}
		if err == nil || ctx.Err() != nil {
			return st, found, err
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	return st, found, err
}

// resolveStart finds out whether a start whose row write failed took
// effect, and returns nil when it did. It reads the row back: the start
// took effect when the row names its execution. If the row does not,
// but a write may still be on its way (an attempt timed out or lost its
// answer while the service may yet apply it), reading cannot settle it;
// then the row is written again — the same row, under the same
// condition, so whichever of the two writes lands first wins and the
// other fails harmlessly — until one of them is seen to have landed. Only
// when that cannot be done in time is the outcome reported unknown.
//
// A start that assumed no row (assumeNew) and finds one naming another
// execution returns errRowExists: the caller starts again the usual way.
func (b *Backend) resolveStart(ctx context.Context, start *history.Event, dedupe []history.OrchestrationStatus, writeErr error,
	maybeApplied bool, write func(context.Context) (bool, error), began time.Time, sm *startMessage, assumeNew bool) error {
	id := start.Instance.InstanceID
	// Writes go out only while the start message is still waited for: a
	// worker discards it as an orphan after orphanAfter.
	fence := began.Add(b.orphanAfter() * 3 / 4)
	rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), fence.Add(b.opts.StartWriteTimeout/2))
	defer cancel()
	for {
		st, found, err := b.readStartRow(rctx, id)
		if err != nil && rctx.Err() == nil {
			// A read that failed tells nothing: read again while there
			// is time.
			select {
			case <-rctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			b.log.Error("a start's row write failed and reading the row back failed too; the start may or may not have taken effect",
				"instanceId", id, "writeError", writeErr, "readError", err)
			return fmt.Errorf("azstorage: start %q: the outcome is unknown: write instance row: %w (reading it back: %v)", id, writeErr, err)
		}
		if found && strings.EqualFold(st.ExecutionID, start.Instance.ExecutionID) {
			b.log.Info("a start's row write answered an error but had been applied", "instanceId", id, "error", writeErr)
			return nil
		}
		if found && assumeNew {
			return errRowExists
		}
		if found && st.Generation >= derefInt(start.Generation) {
			// Another start of this id wrote its row first; a late write
			// of ours fails on its condition.
			for _, s := range dedupe {
				if st.RuntimeStatus == s {
					return fmt.Errorf("azstorage: instance %q was started by another request and is %s: %w", id, s, backend.ErrInstanceExists)
				}
			}
			return b.notStarted(ctx, id, "write the instance row", writeErr)
		}
		if !maybeApplied {
			// Refused before being acted on: the row cannot appear later,
			// so the start message can go now.
			b.dropStart(ctx, sm)
			return b.notStarted(ctx, id, "write the instance row", writeErr)
		}
		if time.Now().After(fence) {
			b.log.Error("a start's row write may still land and could not be settled in time; the start may or may not take effect",
				"instanceId", id, "error", writeErr)
			return fmt.Errorf("azstorage: start %q: the outcome is unknown: write instance row: %w", id, writeErr)
		}
		wctx, wcancel := context.WithDeadline(rctx, fence)
		var maybe bool
		maybe, writeErr = write(wctx)
		wcancel()
		if writeErr == nil {
			b.log.Info("a start's row write that may have been on its way was settled by writing it again", "instanceId", id)
			return nil
		}
		maybeApplied = maybeApplied || maybe
	}
}

// dropStartMessage deletes the start message of a start that did not take
// effect (best effort: the worker discards it as an orphan otherwise).
func (b *Backend) dropStartMessage(ctx context.Context, queue string, sent azqueue.EnqueueMessagesResponse) {
	if len(sent.Messages) != 1 {
		return
	}
	m := sent.Messages[0]
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := b.queue(queue).DeleteMessage(dctx, deref(m.MessageID), deref(m.PopReceipt), nil); err != nil && !isNotFound(err) {
		b.log.Debug("deleting the message of a failed start failed; it is discarded as an orphan later", "messageId", deref(m.MessageID), "error", err)
	}
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// orphanAfter is how long after it was sent a start message whose row
// never appeared is discarded: the client gave up writing the row
// StartWriteTimeout after it began, and a write in flight then lands
// within as long again.
func (b *Backend) orphanAfter() time.Duration { return 2 * b.opts.StartWriteTimeout }

// dedupeStart applies DurableTask.AzureStorage's ExecutionStarted rules, plus one
// for orphans: a client start whose Instances row does not name its
// execution well after the client's deadline for writing it is discarded.
func (b *Backend) dedupeStart(ctx context.Context, instanceID string, m *queueMessage, rows *instanceRowOnce) (startVerdict, error) {
	e := m.data.TaskMessage.Event
	if e.Parent != nil {
		return startProcess, nil // sub-orchestrations are not deduplicated
	}
	st, found, err := rows.get(ctx, b, instanceID)
	if err != nil {
		return startDefer, err
	}
	execID := m.data.TaskMessage.OrchestrationInstance.ExecutionID
	if startTerminated(st, found, execID) {
		return startDiscard, nil // terminated before it started
	}
	if found {
		if st.ExecutionID == "" || strings.EqualFold(st.ExecutionID, execID) {
			return startProcess, nil
		}
	}
	if m.dequeueCount >= 10 {
		return startDiscard, nil
	}
	gen := 0
	if e.Generation != nil {
		gen = *e.Generation
	}
	if found && st.Generation == gen && st.RuntimeStatus == history.StatusPending && st.CreatedTime.Before(e.Timestamp) {
		return startDiscard, nil
	}
	sent := e.Timestamp
	if m.insertedAt.After(sent) {
		sent = m.insertedAt
	}
	if e.ScheduledStartTime != nil && e.ScheduledStartTime.After(sent) {
		sent = *e.ScheduledStartTime
	}
	if !sent.IsZero() && time.Since(sent) > b.orphanAfter() {
		b.log.Info("discarding the start message of a start that did not take effect", "instanceId", instanceID,
			"executionId", execID, "sentAt", sent)
		return startDiscard, nil
	}
	return startDefer, nil
}

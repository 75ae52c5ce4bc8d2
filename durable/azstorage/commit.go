package azstorage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// CompleteOrchestrationWorkItem commits an episode in DurableTask's order:
// outbound messages, then history (sentinel-guarded), then the Instances
// row, then deleting the consumed messages. The episode is committed once
// its history is written: the row and the deletes follow in the
// background (instancewriter.go). A crash at any point replays the
// episode; duplicates are tolerated downstream.
func (b *Backend) CompleteOrchestrationWorkItem(ctx context.Context, wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint) error {
	st := stateOf(wi)
	if st == nil {
		return fmt.Errorf("azstorage: work item for %q was not fetched from this backend", wi.InstanceID)
	}
	if st.ended.Load() {
		return fmt.Errorf("azstorage: work item for %q was already completed or abandoned: %w", wi.InstanceID, backend.ErrWorkItemLost)
	}
	err := b.commit(ctx, wi, st, cp)
	if err != nil {
		b.cache.drop(wi.InstanceID) // replay from storage next time
		return err
	}
	st.ended.Store(true)
	b.endSession(st.ctx, st.session)
	return nil
}

func (b *Backend) commit(ctx context.Context, wi *backend.OrchestrationWorkItem, st *workItemState, cp *backend.Checkpoint) error {
	if len(cp.NewEvents) > 0 {
		started := findEvent(cp.NewEvents, history.ExecutionStarted)
		if started == nil {
			started = findEvent(wi.History, history.ExecutionStarted)
		}
		if started == nil || started.Instance == nil {
			return fmt.Errorf("azstorage: checkpoint of %q has no ExecutionStarted event", wi.InstanceID)
		}
		self := *started.Instance
		episode := st.episode + countEvents(cp.NewEvents, history.OrchestratorStarted)
		if err := b.sendAll(ctx, self, started.Tags, episode, cp); err != nil {
			return err
		}
		first := st.historyLen
		if cp.ContinuedAsNew || !sameExecution(st.executionID, self.ExecutionID) {
			first = 0
		}
		var replaced []string
		if cp.ContinuedAsNew {
			// The blobs of the execution being replaced are deleted once
			// the next one has committed, as DurableTask does.
			replaced, st.blobs.names = st.blobs.names, nil
		}
		st.blobs.offloaded = nil
		if err := b.writeHistory(ctx, st, wi.InstanceID, self.ExecutionID, first, cp.NewEvents); err != nil {
			st.blobs.names = append(replaced, st.blobs.names...)
			return err
		}
		if st.instanceRow != nil {
			// UseInstanceTableETag: the guarded row write decides whether
			// the checkpoint stands, so it stays on the critical path.
			if err := b.updateInstanceRow(ctx, wi.InstanceID, self.ExecutionID, cp, st.blobs.offloaded, st.instanceRow); err != nil {
				st.blobs.names = append(replaced, st.blobs.names...)
				return err
			}
			b.deleteBlobs(ctx, wi.InstanceID, replaced)
			b.deleteLater(ctx, wi.InstanceID, st.messages)
		} else {
			// The row, the replaced blobs and the consumed messages follow
			// in the background (instancewriter.go).
			row := CheckpointInstanceRow(b.opts.TaskHub, wi.InstanceID, self.ExecutionID, cp.NewEvents, cp.State)
			b.pointAtHistoryBlobs(row, cp.NewEvents, st.blobs.offloaded)
			b.writeRowLater(ctx, wi.InstanceID, row, st.messages, replaced)
		}
		if b.opts.HistoryCacheSize > 0 {
			events := append(append([]*history.Event(nil), wi.History[:first]...), cp.NewEvents...)
			if isFinished(events) || !b.parts.owns(b.names.ControlQueue(st.session.partition)) {
				b.cache.drop(wi.InstanceID)
			} else {
				b.cache.put(wi.InstanceID, st.session.partition, storedHistory{events: events, executionID: self.ExecutionID, sentinelETag: st.sentinelETag, blobs: st.blobs.names})
			}
		}
		return nil
	}
	b.deleteLater(ctx, wi.InstanceID, st.messages)
	return nil
}

// deleteLater deletes an episode's consumed messages in the background:
// the episode is committed, so the instance's next episode need not wait
// for them. Until they are gone they stay invisible (their visibility
// timeout is minutes); one that outlives this process is delivered again
// and dropped or tolerated as a duplicate, as after any crash.
func (b *Backend) deleteLater(ctx context.Context, instanceID string, msgs []*queueMessage) {
	if len(msgs) == 0 {
		return
	}
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := b.deleteAll(ctx, msgs); err != nil {
			b.log.Warn("deleting processed messages failed; they will be delivered again and dropped as duplicates",
				"instanceId", instanceID, "error", err)
		}
	}()
}

func sameExecution(stored, current string) bool { return stored == "" || stored == current }

// sendAll enqueues a checkpoint's messages in parallel. Activity and
// sub-orchestration starts carry the orchestration's tags as their
// OrchestrationExecutionContext, as Core sends them.
func (b *Backend) sendAll(ctx context.Context, self history.OrchestrationInstance, tags map[string]string, episode int, cp *backend.Checkpoint) error {
	type job struct {
		queue string
		msg   *MessageData
		delay time.Duration
	}
	var jobs []job
	now := time.Now()
	ep := episode
	for _, m := range cp.Outbound {
		q := b.names.WorkItemQueue()
		if m.Event.Type != history.TaskScheduled {
			q, _ = b.controlQueue(m.Target.InstanceID)
		}
		msg := b.newMessage(m.Event, m.Target, self, &ep)
		if ec := msg.TaskMessage.ExecutionContext; ec != nil && tags != nil {
			ec.OrchestrationTags = tags
		}
		jobs = append(jobs, job{q, msg, 0})
	}
	own, _ := b.controlQueue(self.InstanceID)
	for _, m := range cp.Timers {
		jobs = append(jobs, job{own, b.newMessage(m.Event, m.Target, self, &ep), m.VisibleAt.Sub(now)})
	}
	return inParallel(len(jobs), func(i int) error { return b.send(ctx, jobs[i].queue, jobs[i].msg, jobs[i].delay) })
}

func (b *Backend) deleteAll(ctx context.Context, msgs []*queueMessage) error {
	return inParallel(len(msgs), func(i int) error { return b.deleteMessage(ctx, msgs[i]) })
}

// AbandonOrchestrationWorkItem puts the work item's messages back after
// delay and ends the session.
func (b *Backend) AbandonOrchestrationWorkItem(ctx context.Context, wi *backend.OrchestrationWorkItem, delay time.Duration) error {
	st := stateOf(wi)
	if st == nil {
		return fmt.Errorf("azstorage: work item for %q was not fetched from this backend", wi.InstanceID)
	}
	if !st.ended.CompareAndSwap(false, true) {
		return fmt.Errorf("azstorage: work item for %q was already completed or abandoned: %w", wi.InstanceID, backend.ErrWorkItemLost)
	}
	var errs []error
	for _, m := range st.messages {
		errs = append(errs, b.abandonMessage(ctx, m, delay))
	}
	b.endSession(st.ctx, st.session)
	return errors.Join(errs...)
}

func isFinished(events []*history.Event) bool {
	for _, e := range events {
		switch e.Type {
		case history.ExecutionCompleted, history.ContinueAsNew, history.ExecutionTerminated:
			return true
		}
	}
	return false
}

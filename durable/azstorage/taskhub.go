package azstorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"
)

// CreateTaskHub creates the hub's tables, queues, app lease container and
// partition leases (a Partitions row per control queue, or with blob leases
// {hub}-leases with taskhub.json and lease blobs), leaving existing ones as
// they are. The large-message container is created on first use. It first
// refuses a hub whose storage shows another partition management
// (ErrPartitionSchemeMismatch) or partition count.
func (b *Backend) CreateTaskHub(ctx context.Context) error {
	if err := b.checkPartitionScheme(ctx); err != nil {
		return err
	}
	tables := []string{b.names.HistoryTable(), b.names.InstancesTable()}
	if b.opts.PartitionManagement == TablePartitions {
		tables = append(tables, b.names.PartitionsTable())
	}
	for _, t := range tables {
		if _, err := b.c.Table.CreateTable(ctx, t, nil); err != nil && statusCode(err) != 409 {
			return fmt.Errorf("azstorage: create table %s: %w", t, err)
		}
	}
	queues := append([]string{b.names.WorkItemQueue()}, b.names.ControlQueues()...)
	if b.opts.WakeUpQueue {
		queues = append(queues, b.names.WakeUpQueue())
	}
	for _, q := range queues {
		if _, err := b.c.Queue.CreateQueue(ctx, q, nil); err != nil && !queueerror.HasCode(err, queueerror.QueueAlreadyExists) {
			return fmt.Errorf("azstorage: create queue %s: %w", q, err)
		}
	}
	if err := b.createAppLeaseStore(ctx); err != nil {
		return err
	}
	if b.opts.PartitionManagement != TablePartitions {
		if err := b.createLeaseStore(ctx); err != nil {
			return err
		}
		b.checked.Store(true)
		return nil
	}
	parts := b.c.Table.NewClient(b.names.PartitionsTable())
	for _, q := range b.names.ControlQueues() {
		body, _ := json.Marshal(map[string]any{"PartitionKey": "", "RowKey": q, "IsDraining": false})
		if _, err := parts.AddEntity(ctx, body, nil); err != nil && statusCode(err) != 409 {
			return fmt.Errorf("azstorage: create partition row %s: %w", q, err)
		}
	}
	b.checked.Store(true)
	return nil
}

// DeleteTaskHub removes every table, queue and container of the hub, as
// DurableTask's DeleteAsync does: the History, Instances and Partitions
// tables, the control, work-item, poison and wake-up queues, and the
// large-message, blob-lease ("{hub}-leases") and app-lease
// ("{hub}-applease") containers. Missing ones are skipped.
func (b *Backend) DeleteTaskHub(ctx context.Context) error {
	var errs []error
	for _, t := range []string{b.names.HistoryTable(), b.names.InstancesTable(), b.names.PartitionsTable()} {
		if _, err := b.c.Table.DeleteTable(ctx, t, nil); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete table %s: %w", t, err))
		}
	}
	for _, q := range append([]string{b.names.WorkItemQueue(), b.names.PoisonQueue(), b.names.WakeUpQueue()}, b.names.ControlQueues()...) {
		if _, err := b.c.Queue.DeleteQueue(ctx, q, nil); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete queue %s: %w", q, err))
		}
	}
	hub := strings.ToLower(b.opts.TaskHub)
	for _, c := range []string{b.names.LargeMessagesContainer(), hub + "-leases", hub + "-applease"} {
		if _, err := b.c.Blob.DeleteContainer(ctx, c, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerNotFound) {
			errs = append(errs, fmt.Errorf("delete container %s: %w", c, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("azstorage: delete task hub %s: %w", b.opts.TaskHub, err)
	}
	return nil
}

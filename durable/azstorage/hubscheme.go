package azstorage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// PartitionManagement is how the workers of a task hub share its control
// queues. Every worker of a hub, .NET or Go, must use the same one: two
// schemes on one hub would let two workers read the same control queue.
type PartitionManagement int

const (
	// TablePartitions keeps one row per control queue in the {Hub}Partitions
	// table (DurableTask.AzureStorage 2.x, Durable Functions v3's default,
	// useTablePartitionManagement: true).
	TablePartitions PartitionManagement = iota
	// BlobLeases keeps two blob leases per control queue in the
	// {hub}-leases container, "intent/{queue}" and "ownership/{queue}", with
	// taskhub.json beside them (DurableTask.AzureStorage 1.x's default
	// "safe" partition manager: Durable Functions v2, and v3 with
	// useTablePartitionManagement: false).
	BlobLeases
	// LegacyBlobLeases keeps one blob lease per control queue,
	// "default/{queue}" in {hub}-leases (useLegacyPartitionManagement: true).
	LegacyBlobLeases
)

// String names the scheme and the host.json setting that selects it.
func (p PartitionManagement) String() string {
	switch p {
	case TablePartitions:
		return "table partitions (useTablePartitionManagement: true)"
	case BlobLeases:
		return "blob leases (useTablePartitionManagement: false)"
	case LegacyBlobLeases:
		return "legacy blob leases (useLegacyPartitionManagement: true)"
	}
	return fmt.Sprintf("PartitionManagement(%d)", int(p))
}

// leaseDirs are the lease blob folders of a blob scheme.
func (p PartitionManagement) leaseDirs() []string {
	switch p {
	case BlobLeases:
		return []string{"intent", "ownership"}
	case LegacyBlobLeases:
		return []string{"default"}
	}
	return nil
}

// ErrPartitionSchemeMismatch is wrapped by the error CreateTaskHub and
// Start return when the task hub in storage is laid out for, or in use
// by, another partition management than the configured one. Starting
// anyway could let two workers read the same control queue.
var ErrPartitionSchemeMismatch = errors.New("azstorage: the task hub uses another partition management than configured")

// ErrPartitionCountMismatch is wrapped by the error CreateTaskHub and
// Start return when the hub's taskhub.json records another partition
// count than the configured one: the two sides would route instances to
// different control queues.
var ErrPartitionCountMismatch = errors.New("azstorage: the task hub has another partition count than configured")

// LeasesContainer is "{hub}-leases", the blob partition managers' lease
// container.
func (n Names) LeasesContainer() string { return n.lc() + "-leases" }

// AppLeaseContainer is "{hub}-applease", the container whose lease is the
// app lease.
func (n Names) AppLeaseContainer() string { return n.lc() + "-applease" }

// AppLeaseInfoBlob is "{hub}-appleaseinfo", the blob in the app lease
// container naming the app that holds (or wants) the app lease.
func (n Names) AppLeaseInfoBlob() string { return n.lc() + "-appleaseinfo" }

// taskHubInfoBlob is the blob in {hub}-leases describing the hub.
const taskHubInfoBlob = "taskhub.json"

// taskHubInfo is the content of taskhub.json: TaskHubInfo serialized by
// Newtonsoft.Json, members in this order.
type taskHubInfo struct {
	TaskHubName    string
	CreatedAt      string // .NET DateTime text
	PartitionCount int
}

func (i taskHubInfo) marshal() []byte {
	return marshalNewtonsoft(struct {
		TaskHubName    string
		CreatedAt      string
		PartitionCount int
	}(i))
}

// marshalNewtonsoft writes v as Newtonsoft.Json's defaults do: compact,
// no HTML escaping.
func marshalNewtonsoft(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("azstorage: marshal %T: %v", v, err)) // only fixed struct types come here
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// hubLayout is what storage says about a hub's partition management.
type hubLayout struct {
	tableRows   int               // rows in {Hub}Partitions (0 when the table is missing)
	tableLive   string            // a foreign owner of an unexpired row, or ""
	dirs        map[string]int    // lease folder → lease blobs in it
	dirLive     map[string]string // lease folder → a foreign owner holding a blob lease
	info        *taskHubInfo      // taskhub.json, nil when missing
	infoInvalid error
}

func (l *hubLayout) has(p PartitionManagement) bool {
	if p == TablePartitions {
		return l.tableRows > 0
	}
	for _, d := range p.leaseDirs() {
		if l.dirs[d] > 0 {
			return true
		}
	}
	return false
}

// live returns a worker that holds a lease of the scheme now, or "".
func (l *hubLayout) live(p PartitionManagement) string {
	if p == TablePartitions {
		return l.tableLive
	}
	for _, d := range p.leaseDirs() {
		if w := l.dirLive[d]; w != "" {
			return w
		}
	}
	return ""
}

// readHubLayout reads the Partitions table and the lease container.
func (b *Backend) readHubLayout(ctx context.Context) (*hubLayout, error) {
	l := &hubLayout{dirs: map[string]int{}, dirLive: map[string]string{}}
	rows, err := b.queryRows(ctx, b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("azstorage: read %s: %w", b.names.PartitionsTable(), err)
	}
	now := time.Now().UTC()
	for _, r := range rows {
		pl := leaseFromRow(r)
		if !strings.HasPrefix(pl.Queue, b.names.lc()+"-control-") {
			continue // any control queue counts, also one beyond the configured count
		}
		l.tableRows++
		if pl.CurrentOwner != "" && pl.CurrentOwner != b.opts.WorkerID && now.Before(pl.ExpiresAt) {
			l.tableLive = pl.CurrentOwner
		}
	}
	container := b.names.LeasesContainer()
	pager := b.c.Blob.NewListBlobsFlatPager(container, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("azstorage: list %s: %w", container, err)
		}
		for _, item := range page.Segment.BlobItems {
			name := deref(item.Name)
			if name == taskHubInfoBlob {
				l.info, l.infoInvalid = b.readTaskHubInfo(ctx)
				continue
			}
			dir, _, ok := strings.Cut(name, "/")
			if !ok {
				continue
			}
			l.dirs[dir]++
			if item.Properties != nil && item.Properties.LeaseState != nil && *item.Properties.LeaseState == lease.StateTypeLeased {
				if bl, err := b.readLeaseBlob(ctx, name); err == nil && bl.owner() != b.opts.WorkerID {
					l.dirLive[dir] = bl.owner()
					if bl.owner() == "" {
						l.dirLive[dir] = "(unnamed)"
					}
				}
			}
		}
	}
	return l, nil
}

// checkPartitionScheme refuses a hub whose storage disagrees with the
// configured partition management: laid out only for another scheme, or
// with a worker of another scheme holding leases now. A hub that has the
// artifacts of both schemes but no live worker of the other one is
// accepted with a warning. It also refuses a taskhub.json with another
// partition count.
func (b *Backend) checkPartitionScheme(ctx context.Context) error {
	l, err := b.readHubLayout(ctx)
	if err != nil {
		return err
	}
	want := b.opts.PartitionManagement
	hub := b.opts.TaskHub
	for _, other := range []PartitionManagement{TablePartitions, BlobLeases, LegacyBlobLeases} {
		if other == want || !l.has(other) {
			continue
		}
		if w := l.live(other); w != "" {
			return fmt.Errorf("%w: task hub %s is configured for %s, but worker %q holds one of its %s right now (%s); "+
				"give this app the partition settings of the hub's other apps", ErrPartitionSchemeMismatch, hub, want, w, other, b.schemeArtifact(other))
		}
		if !l.has(want) {
			return fmt.Errorf("%w: task hub %s is configured for %s, but it is managed with %s (found %s); "+
				"give this app the partition settings of the hub's other apps, or delete those leases if no worker uses them anymore",
				ErrPartitionSchemeMismatch, hub, want, other, b.schemeArtifact(other))
		}
		b.log.Warn("task hub holds the leases of two partition managements; no worker of the other one holds a lease now",
			"configured", want.String(), "other", other.String(), "otherArtifact", b.schemeArtifact(other))
	}
	if want != TablePartitions {
		if l.infoInvalid != nil {
			return fmt.Errorf("azstorage: task hub %s: %w", hub, l.infoInvalid)
		}
		if l.info != nil && l.info.PartitionCount != b.opts.PartitionCount {
			return fmt.Errorf("%w: %s/%s of task hub %s says %d partitions, configured are %d (partitionCount)",
				ErrPartitionCountMismatch, b.names.LeasesContainer(), taskHubInfoBlob, hub, l.info.PartitionCount, b.opts.PartitionCount)
		}
	}
	return nil
}

func (b *Backend) schemeArtifact(p PartitionManagement) string {
	if p == TablePartitions {
		return "table " + b.names.PartitionsTable()
	}
	dirs := p.leaseDirs()
	for i, d := range dirs {
		dirs[i] = b.names.LeasesContainer() + "/" + d + "/"
	}
	return "blobs " + strings.Join(dirs, " and ")
}

func (b *Backend) readTaskHubInfo(ctx context.Context) (*taskHubInfo, error) {
	data, _, err := b.downloadLeasesBlob(ctx, taskHubInfoBlob)
	if err != nil {
		return nil, err
	}
	var raw struct {
		TaskHubName    string
		CreatedAt      json.RawMessage
		PartitionCount int
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &raw); err != nil {
		return nil, fmt.Errorf("%s/%s is not TaskHubInfo JSON: %w", b.names.LeasesContainer(), taskHubInfoBlob, err)
	}
	created := strings.Trim(string(raw.CreatedAt), `"`)
	return &taskHubInfo{TaskHubName: raw.TaskHubName, CreatedAt: created, PartitionCount: raw.PartitionCount}, nil
}

// downloadLeasesBlob reads a blob of {hub}-leases with its lease state.
func (b *Backend) downloadLeasesBlob(ctx context.Context, name string) ([]byte, bool, error) {
	container := b.names.LeasesContainer()
	resp, err := b.c.Blob.DownloadStream(ctx, container, name, nil)
	if err != nil {
		return nil, false, fmt.Errorf("azstorage: download %s/%s: %w", container, name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, false, fmt.Errorf("azstorage: download %s/%s: %w", container, name, err)
	}
	leased := resp.LeaseState != nil && *resp.LeaseState == lease.StateTypeLeased
	return data, leased, nil
}

// uploadLeasesBlob writes a blob of {hub}-leases: only when it does not
// exist yet (ifNew), under a lease (leaseID), or unconditionally.
func (b *Backend) uploadLeasesBlob(ctx context.Context, name string, data []byte, ifNew bool, leaseID string) error {
	o := &azblob.UploadBufferOptions{}
	if ifNew {
		o.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}
	} else if leaseID != "" {
		o.AccessConditions = &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: &leaseID}}
	}
	_, err := b.c.Blob.UploadBuffer(ctx, b.names.LeasesContainer(), name, data, o)
	if err != nil {
		return fmt.Errorf("azstorage: upload %s/%s: %w", b.names.LeasesContainer(), name, err)
	}
	return nil
}

// createContainer creates a blob container unless it exists.
func (b *Backend) createContainer(ctx context.Context, name string) error {
	if _, err := b.c.Blob.CreateContainer(ctx, name, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("azstorage: create container %s: %w", name, err)
	}
	return nil
}

// createLeaseStore creates {hub}-leases with taskhub.json and a released
// lease blob per control queue and folder, as DurableTask.AzureStorage
// 1.x's EnsureTaskHub does, leaving existing blobs as they are.
func (b *Backend) createLeaseStore(ctx context.Context) error {
	if err := b.createContainer(ctx, b.names.LeasesContainer()); err != nil {
		return err
	}
	info := taskHubInfo{TaskHubName: b.opts.TaskHub, CreatedAt: formatDotNetTime(time.Now()), PartitionCount: b.opts.PartitionCount}
	if err := b.uploadLeasesBlob(ctx, taskHubInfoBlob, info.marshal(), true, ""); err != nil && !isConflict(err) {
		return err
	}
	for _, dir := range b.opts.PartitionManagement.leaseDirs() {
		for _, q := range b.names.ControlQueues() {
			bl := blobLease{PartitionID: q}
			if err := b.uploadLeasesBlob(ctx, dir+"/"+q, bl.marshal(), true, ""); err != nil && !isConflict(err) {
				return err
			}
		}
	}
	return nil
}

// createAppLeaseStore creates {hub}-applease with an empty
// {hub}-appleaseinfo, as every DurableTask.AzureStorage version does.
func (b *Backend) createAppLeaseStore(ctx context.Context) error {
	container := b.names.AppLeaseContainer()
	if err := b.createContainer(ctx, container); err != nil {
		return err
	}
	_, err := b.c.Blob.UploadBuffer(ctx, container, b.names.AppLeaseInfoBlob(), []byte("{}"), &azblob.UploadBufferOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	if err != nil && !isConflict(err) {
		return fmt.Errorf("azstorage: upload %s/%s: %w", container, b.names.AppLeaseInfoBlob(), err)
	}
	return nil
}

// isConflict reports 409 Conflict or 412 Precondition Failed: a blob that
// exists already, or a lease held by someone else.
func isConflict(err error) bool {
	s := statusCode(err)
	return s == 409 || s == 412
}

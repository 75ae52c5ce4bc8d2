package azstorage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// AppLeaseOptions are the app lease's intervals (Durable Functions'
// appLeaseOptions); zero values take DurableTask's defaults.
type AppLeaseOptions struct {
	RenewInterval   time.Duration // default 25 s
	AcquireInterval time.Duration // default 300 s: how often an app waiting for the lease tries again
	LeaseInterval   time.Duration // default 60 s (blob leases last 15 to 60 s)
}

func (o *AppLeaseOptions) setDefaults() error {
	if o.RenewInterval <= 0 {
		o.RenewInterval = 25 * time.Second
	}
	if o.AcquireInterval <= 0 {
		o.AcquireInterval = 300 * time.Second
	}
	if o.LeaseInterval <= 0 {
		o.LeaseInterval = 60 * time.Second
	}
	if err := validBlobLease("app lease interval", o.LeaseInterval); err != nil {
		return err
	}
	if o.RenewInterval >= o.LeaseInterval {
		return fmt.Errorf("azstorage: app lease renew interval %v must be shorter than its lease interval %v", o.RenewInterval, o.LeaseInterval)
	}
	return nil
}

// validBlobLease checks a duration the blob service accepts for a lease.
func validBlobLease(what string, d time.Duration) error {
	if d < 15*time.Second || d > 60*time.Second || d%time.Second != 0 {
		return fmt.Errorf("azstorage: %s %v must be whole seconds from 15 to 60 (a blob lease's range)", what, d)
	}
	return nil
}

// AppLeaseID is the lease id an app holds the app lease with: the GUID
// whose first four bytes are the little-endian FNV-1a hash of the app name
// (WEBSITE_SITE_NAME) and whose other bytes are zero, as
// DurableTask.AzureStorage derives it. Every worker of one app uses the
// same id, so all of them run while their app holds the lease.
func AppLeaseID(appName string) string {
	return fmt.Sprintf("%08x-0000-0000-0000-000000000000", fnv1a32(appName))
}

// appLeaseInfo is the content of {hub}-appleaseinfo.
type appLeaseInfo struct {
	OwnerID       *string `json:"OwnerId"`
	DesiredSwapID *string `json:"DesiredSwapId"`
}

// appLeaseManager runs a partitioner only while this app holds the lease
// of the {hub}-applease container, as DurableTask's AppLeaseManager does:
// one app of a task hub processes it at a time (for example one deployment
// slot), while all workers of that app share the lease and its
// partitions. An app that loses the lease stops reading and releases its
// partitions, then waits for the lease again.
type appLeaseManager struct {
	b     *Backend
	inner partitioner
	id    string
	o     AppLeaseOptions
	held  atomic.Bool
}

func newAppLeaseManager(b *Backend, inner partitioner) *appLeaseManager {
	return &appLeaseManager{b: b, inner: inner, id: AppLeaseID(b.opts.AppName), o: b.opts.AppLease}
}

func (m *appLeaseManager) owns(queue string) bool { return m.held.Load() && m.inner.owns(queue) }

func (m *appLeaseManager) releaseAll(ctx context.Context) error { return m.inner.releaseAll(ctx) }

func (m *appLeaseManager) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := m.acquire(ctx); err != nil {
			if ctx.Err() == nil {
				m.b.log.Info("waiting for the app lease", "container", m.b.names.AppLeaseContainer(), "appLeaseId", m.id, "retryIn", m.o.AcquireInterval, "reason", err)
			}
			select {
			case <-time.After(m.o.AcquireInterval):
			case <-ctx.Done():
			}
			continue
		}
		m.b.log.Info("acquired the app lease", "container", m.b.names.AppLeaseContainer(), "appLeaseId", m.id)
		m.held.Store(true)
		ictx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); m.inner.run(ictx) }()
		for ctx.Err() == nil {
			select {
			case <-time.After(m.o.RenewInterval):
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			if lost := m.renew(ctx); lost != nil {
				m.b.log.Warn("lost the app lease; stopping partition processing", "appLeaseId", m.id, "error", lost)
				break
			}
		}
		m.held.Store(false)
		cancel()
		<-done
		if ctx.Err() == nil {
			rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
			if err := m.inner.releaseAll(rctx); err != nil {
				m.b.log.Warn("releasing partitions after losing the app lease failed", "error", err)
			}
			rcancel()
		}
	}
}

func (m *appLeaseManager) containerLease(leaseID string) *lease.ContainerClient {
	cc := m.b.c.Blob.ServiceClient().NewContainerClient(m.b.names.AppLeaseContainer())
	lc, _ := lease.NewContainerClient(cc, &lease.ContainerClientOptions{LeaseID: &leaseID}) // fails only on a nil client
	return lc
}

// acquire takes the app lease: by changing the current holder's lease when
// the info blob names this app as the desired next owner, else by a plain
// acquisition (which also succeeds while another worker of this app holds
// it with the same id).
func (m *appLeaseManager) acquire(ctx context.Context) error {
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	info, err := m.readInfo(actx)
	if bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.BlobNotFound) {
		if err := m.b.createAppLeaseStore(actx); err != nil {
			return err
		}
		info, err = &appLeaseInfo{}, nil
	}
	if err != nil {
		return err
	}
	if deref(info.DesiredSwapID) == m.id && deref(info.OwnerID) != "" && deref(info.OwnerID) != m.id {
		if _, err := m.containerLease(deref(info.OwnerID)).ChangeLease(actx, m.id, nil); err != nil {
			return fmt.Errorf("change the app lease from %s: %w", deref(info.OwnerID), err)
		}
		m.writeInfo(actx, appLeaseInfo{OwnerID: &m.id})
		return nil
	}
	if _, err := m.containerLease(m.id).AcquireLease(actx, int32(m.o.LeaseInterval/time.Second), nil); err != nil {
		return fmt.Errorf("another app holds it (owner %s): %w", deref(info.OwnerID), err)
	}
	if deref(info.OwnerID) != m.id {
		m.writeInfo(actx, appLeaseInfo{OwnerID: &m.id, DesiredSwapID: info.DesiredSwapID})
	}
	return nil
}

// renew returns an error only when the lease is lost (409/412); other
// failures count as renewed, as in DurableTask.
func (m *appLeaseManager) renew(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := m.containerLease(m.id).RenewLease(rctx, nil)
	if err != nil && isConflict(err) {
		return err
	}
	if err != nil {
		m.b.log.Warn("renewing the app lease failed; keeping it", "error", err)
	}
	return nil
}

func (m *appLeaseManager) readInfo(ctx context.Context) (*appLeaseInfo, error) {
	resp, err := m.b.c.Blob.DownloadStream(ctx, m.b.names.AppLeaseContainer(), m.b.names.AppLeaseInfoBlob(), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.b.names.AppLeaseInfoBlob(), err)
	}
	info := &appLeaseInfo{}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), info); err != nil {
		return nil, fmt.Errorf("%s/%s is not app lease info JSON: %w", m.b.names.AppLeaseContainer(), m.b.names.AppLeaseInfoBlob(), err)
	}
	return info, nil
}

// writeInfo overwrites the info blob, best effort as in DurableTask: the
// lease itself decides who runs.
func (m *appLeaseManager) writeInfo(ctx context.Context, info appLeaseInfo) {
	_, err := m.b.c.Blob.UploadBuffer(ctx, m.b.names.AppLeaseContainer(), m.b.names.AppLeaseInfoBlob(), marshalNewtonsoft(info), nil)
	if err != nil {
		m.b.log.Warn("writing the app lease info failed", "error", err)
	}
}

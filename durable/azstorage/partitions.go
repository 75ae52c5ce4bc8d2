package azstorage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/godurable/functions/internal/telemetry"
)

// partitionLease is one row of the Partitions table: PK "",
// RK the control queue's name.
type partitionLease struct {
	Queue        string
	CurrentOwner string
	NextOwner    string
	OwnedSince   time.Time
	LastRenewal  time.Time
	ExpiresAt    time.Time
	IsDraining   bool
	etag         azcore.ETag
}

const partitionTimeLayout = "2006-01-02T15:04:05.0000000Z"

func (l *partitionLease) entity() map[string]any {
	e := map[string]any{"PartitionKey": "", "RowKey": l.Queue, "IsDraining": l.IsDraining}
	setStr := func(k, v string) {
		if v != "" {
			e[k] = v
		}
	}
	setTime := func(k string, t time.Time) {
		if !t.IsZero() {
			e[k] = t.UTC().Format(partitionTimeLayout)
			e[k+"@odata.type"] = "Edm.DateTime"
		}
	}
	setStr("CurrentOwner", l.CurrentOwner)
	setStr("NextOwner", l.NextOwner)
	setTime("OwnedSince", l.OwnedSince)
	setTime("LastRenewal", l.LastRenewal)
	setTime("ExpiresAt", l.ExpiresAt)
	return e
}

func leaseFromRow(r map[string]any) *partitionLease {
	l := &partitionLease{}
	l.Queue, _ = r["RowKey"].(string)
	l.CurrentOwner, _ = r["CurrentOwner"].(string)
	l.NextOwner, _ = r["NextOwner"].(string)
	l.IsDraining, _ = r["IsDraining"].(bool)
	t := func(k string) time.Time {
		s, _ := r[k].(string)
		v, _ := time.Parse(time.RFC3339Nano, s)
		return v
	}
	l.OwnedSince, l.LastRenewal, l.ExpiresAt = t("OwnedSince"), t("LastRenewal"), t("ExpiresAt")
	if s, ok := r["odata.etag"].(string); ok {
		l.etag = azcore.ETag(s)
	}
	return l
}

// partitionManager owns control queues through the Partitions table:
// claim free or expired rows, renew its own, steal toward an even share,
// drain and release on request or shutdown. A control queue is read only
// while this worker is its CurrentOwner and not draining.
type partitionManager struct {
	b  *Backend
	me string

	mu        sync.Mutex
	listening map[string]*listener // queue → poller
}

type listener struct {
	index    int
	cancel   context.CancelFunc
	done     chan struct{}
	draining bool
}

func newPartitionManager(b *Backend) *partitionManager {
	return &partitionManager{b: b, me: b.opts.WorkerID, listening: map[string]*listener{}}
}

// run loops until ctx ends.
func (m *partitionManager) run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		busy, err := m.round(ctx)
		wait := m.b.opts.LeaseAcquireInterval
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			m.b.log.Warn("partition lease round failed", "error", err)
			if failures <= 10 {
				wait = 0
			}
			if failures > 1 {
				wait = max(wait, time.Second)
			}
		case busy:
			failures = 0
			wait = time.Second
		default:
			failures = 0
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	m.stopAll()
}

// round reads every row and acts on it once. busy is true while a drain or
// a steal is in progress (the next round comes sooner).
func (m *partitionManager) round(ctx context.Context) (busy bool, err error) {
	// Durable Task allows 2 s per table operation; a busy emulator can be
	// slower than that for minutes, and a round that always times out
	// never renews or balances, so allow more.
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := m.b.queryRows(rctx, m.b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil {
		return false, fmt.Errorf("read partitions: %w", err)
	}
	now := time.Now().UTC()
	owners := map[string]int{}
	var leases []*partitionLease
	mine := 0
	for _, r := range rows {
		l := leaseFromRow(r)
		idx := m.b.names.ControlQueueIndex(l.Queue)
		if idx < 0 {
			continue // a row for a queue beyond this hub's partition count
		}
		leases = append(leases, l)
		if l.CurrentOwner != m.me {
			m.stopListening(l.Queue)
		}
		changed := false
		switch {
		case (l.CurrentOwner == "" && l.NextOwner == "") || !now.Before(l.ExpiresAt) || (l.CurrentOwner == "" && l.NextOwner == m.me):
			l.CurrentOwner, l.NextOwner, l.IsDraining = m.me, "", false
			l.OwnedSince, l.LastRenewal, l.ExpiresAt = now, now, now.Add(m.b.opts.LeaseInterval)
			changed = true
		case l.CurrentOwner != m.me:
			if l.NextOwner == "" && l.IsDraining {
				l.NextOwner = m.me // its owner is shutting down: next in line
				changed = true
			}
			owner := l.CurrentOwner
			if l.NextOwner != "" {
				owner = l.NextOwner
			}
			if owner != m.me {
				owners[owner]++
			} else {
				busy = true
			}
		default: // mine
			l.LastRenewal, l.ExpiresAt = now, now.Add(m.b.opts.LeaseInterval)
			changed = true
			if l.NextOwner != "" {
				busy = true
				if !l.IsDraining {
					l.IsDraining = true
					m.startDrain(l.Queue)
				} else if m.drained(l.Queue) {
					l.CurrentOwner, l.IsDraining = "", false
				}
			}
		}
		if changed {
			if err := m.write(rctx, l); err != nil {
				return busy, err
			}
		}
		if l.CurrentOwner == m.me {
			mine++
			if !l.IsDraining {
				m.listen(ctx, l.Queue, idx)
			}
		}
	}
	stole, err := m.balance(rctx, leases, owners, mine)
	return busy || stole, err
}

// balance steals toward an even share: avg = rows / (other owners + 1).
func (m *partitionManager) balance(ctx context.Context, leases []*partitionLease, owners map[string]int, mine int) (bool, error) {
	if len(owners) == 0 {
		return false, nil
	}
	avg := len(leases) / (len(owners) + 1)
	if mine >= avg && !(mine == avg && hasSurplus(owners, avg)) {
		return false, nil
	}
	want := max(avg-mine, 0)
	if hasSurplus(owners, avg) {
		want++ // one extra steal when an owner exceeds the average by more than one
	}
	stole := false
	for _, l := range leases {
		if want == 0 {
			break
		}
		if l.CurrentOwner == "" || l.CurrentOwner == m.me || l.NextOwner != "" || owners[l.CurrentOwner] <= avg {
			continue
		}
		l.NextOwner = m.me
		if err := m.write(ctx, l); err != nil {
			return stole, err
		}
		owners[l.CurrentOwner]--
		want--
		stole = true
	}
	return stole, nil
}

func hasSurplus(owners map[string]int, avg int) bool {
	for _, n := range owners {
		if n > avg+1 {
			return true
		}
	}
	return false
}

// write replaces a row if its ETag still matches. (It goes through the
// transaction path: the SDK refuses the empty PartitionKey these rows use.)
func (m *partitionManager) write(ctx context.Context, l *partitionLease) error {
	res, err := m.b.c.submitBatch(ctx, tableBatch{Table: m.b.names.PartitionsTable(), PartitionKey: "",
		Ops: []tableOp{{Kind: opUpdateReplace, Entity: l.entity(), ETag: string(l.etag)}}})
	if err != nil {
		return fmt.Errorf("update partition %s: %w", l.Queue, err)
	}
	l.etag = azcore.ETag(res[0].ETag)
	return nil
}

func (m *partitionManager) listen(ctx context.Context, queue string, idx int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.listening[queue]; ok {
		return
	}
	lctx, cancel := context.WithCancel(ctx)
	l := &listener{index: idx, cancel: cancel, done: make(chan struct{})}
	m.listening[queue] = l
	m.b.log.Info("acquired partition", "queue", queue, "worker", m.me)
	telemetry.PartitionChanged(queue, "acquired")
	go func() {
		defer close(l.done)
		m.b.pollPartition(lctx, idx)
	}()
}

// owns reports whether this worker currently reads the control queue.
func (m *partitionManager) owns(queue string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.listening[queue]
	return ok && !l.draining
}

func (m *partitionManager) stopListening(queue string) {
	m.mu.Lock()
	l, ok := m.listening[queue]
	delete(m.listening, queue)
	m.mu.Unlock()
	if ok {
		l.cancel()
		<-l.done
		m.b.cache.dropPartition(l.index)
		m.b.log.Info("lost partition", "queue", queue, "worker", m.me)
		telemetry.PartitionChanged(queue, "released")
	}
}

// startDrain stops reading the queue; in-flight sessions finish.
func (m *partitionManager) startDrain(queue string) {
	m.mu.Lock()
	l, ok := m.listening[queue]
	m.mu.Unlock()
	if ok {
		l.draining = true
		l.cancel()
		<-l.done
	}
}

// drained reports whether no session of the queue's partition is in flight.
func (m *partitionManager) drained(queue string) bool {
	idx := m.b.names.ControlQueueIndex(queue)
	m.b.mu.Lock()
	defer m.b.mu.Unlock()
	for _, s := range m.b.sessions {
		if s.partition == idx {
			return false
		}
	}
	m.mu.Lock()
	delete(m.listening, queue)
	m.mu.Unlock()
	m.b.cache.dropPartition(idx)
	return true
}

func (m *partitionManager) stopAll() {
	m.mu.Lock()
	ls := m.listening
	m.listening = map[string]*listener{}
	m.mu.Unlock()
	for _, l := range ls {
		l.cancel()
		<-l.done
	}
}

// releaseAll gives up every row this worker owns, so other workers can
// claim them at once instead of waiting for the leases to expire.
func (m *partitionManager) releaseAll(ctx context.Context) error {
	m.stopAll()
	rows, err := m.b.queryRows(ctx, m.b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil {
		return fmt.Errorf("azstorage: release partitions: %w", err)
	}
	var errs []error
	for _, r := range rows {
		l := leaseFromRow(r)
		if l.CurrentOwner != m.me {
			continue
		}
		l.CurrentOwner, l.IsDraining = "", false
		l.LastRenewal = time.Now().UTC()
		if err := m.write(ctx, l); err != nil {
			errs = append(errs, err)
		} else {
			m.b.log.Info("released partition", "queue", l.Queue, "worker", m.me)
		}
	}
	return errors.Join(errs...)
}

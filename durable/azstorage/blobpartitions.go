package azstorage

import (
	"context"
	"sync"
	"time"
)

// partitioner decides which control queues this worker reads.
type partitioner interface {
	// run claims, renews and balances partitions until ctx ends.
	run(ctx context.Context)
	// owns reports whether this worker reads the control queue now.
	owns(queue string) bool
	// releaseAll gives up every partition after run has returned.
	releaseAll(ctx context.Context) error
}

// newPartitioner returns the partition manager Options select.
func newPartitioner(b *Backend) partitioner {
	var p partitioner
	if b.opts.PartitionManagement == TablePartitions {
		p = newPartitionManager(b)
	} else {
		p = newBlobPartitionManager(b)
	}
	if b.opts.UseAppLease {
		p = newAppLeaseManager(b, p)
	}
	return p
}

// blobPartitionManager shares control queues through blob leases in
// {hub}-leases, compatible with DurableTask.AzureStorage 1.x.
//
// With BlobLeases (1.x's default "safe" manager) each queue has an intent
// lease, balanced with stealing toward a fair share, and an ownership
// lease, which is only ever taken once free and only by the holder of the
// intent lease. A queue is read while both are held. A worker that loses
// the intent lease stops reading, lets its in-flight work items finish,
// and then gives the ownership lease up, so the new intent holder can take
// it: no two workers read one queue, not even while a steal is under way.
// (DurableTask lets the ownership lease expire at that point; releasing it
// hands the queue over up to 15 seconds sooner and is otherwise the same.)
//
// With LegacyBlobLeases a queue has one lease, in "default/", balanced with
// stealing; a queue is read while it is held.
type blobPartitionManager struct {
	b       *Backend
	intent  *leaseBalancer // the "default" balancer in legacy mode
	ownship *leaseBalancer // nil in legacy mode

	mu        sync.Mutex
	ctx       context.Context // run's context, which pollers run under
	listening map[string]*listener
}

func newBlobPartitionManager(b *Backend) *blobPartitionManager {
	m := &blobPartitionManager{b: b, listening: map[string]*listener{}}
	o := b.opts
	main := leaseTimings{acquire: o.LeaseAcquireInterval, renew: o.LeaseRenewInterval, lease: o.LeaseInterval}
	if o.PartitionManagement == LegacyBlobLeases {
		// The owner of a stolen lease reads on until its next renewal
		// fails, so a thief waits that long (and a margin) before reading;
		// DurableTask's legacy manager does not wait, and the two overlap.
		wait := o.LeaseRenewInterval + max(2*time.Second, o.LeaseRenewInterval/2)
		m.intent = &leaseBalancer{b: b, dir: "default", me: o.WorkerID, t: main, steal: true,
			acquired: func(q string, stolen bool) {
				if !stolen {
					m.listen(q)
					return
				}
				go func() {
					select {
					case <-time.After(wait):
					case <-m.done():
						return
					}
					if m.intent.holds(q) {
						m.listen(q)
					}
				}()
			},
			released: func(q string, _ bool) { m.stopListening(q) }}
		return m
	}
	m.intent = &leaseBalancer{b: b, dir: "intent", me: o.WorkerID, t: main, steal: true,
		acquired: func(q string, _ bool) {
			if m.ownship.holds(q) {
				m.listen(q)
			}
		},
		released: func(q string, _ bool) { m.stopListening(q) }}
	// DurableTask's ownership leases use fixed intervals of 5, 10 and 15
	// seconds; shorter configured intervals (as in tests) shorten the
	// first two as well.
	m.ownship = &leaseBalancer{b: b, dir: "ownership", me: o.WorkerID,
		t:      leaseTimings{acquire: min(5*time.Second, o.LeaseAcquireInterval), renew: min(10*time.Second, o.LeaseRenewInterval), lease: 15 * time.Second},
		mayAcq: m.intent.holds,
		mayKeep: func(q string) bool {
			return m.intent.holds(q) || m.owns(q) || m.busy(q)
		},
		acquired: func(q string, _ bool) {
			if m.intent.holds(q) {
				m.listen(q)
			}
		},
		released: func(q string, _ bool) { m.stopListening(q) }}
	return m
}

func (m *blobPartitionManager) run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	// Leases still held under this worker id (a restart) are kept, intent
	// first so that ownership may follow.
	m.intent.adopt(ctx)
	if m.ownship != nil {
		m.ownship.adopt(ctx)
	}
	var wg sync.WaitGroup
	if m.ownship != nil {
		wg.Add(1)
		go func() { defer wg.Done(); m.ownship.run(ctx) }()
	}
	m.intent.run(ctx)
	wg.Wait()
	m.stopAll()
}

// releaseAll has nothing left to do: the balancers release their leases
// when run ends.
func (m *blobPartitionManager) releaseAll(context.Context) error {
	m.stopAll()
	return nil
}

// listen starts reading a control queue.
func (m *blobPartitionManager) listen(queue string) {
	idx := m.b.names.ControlQueueIndex(queue)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.listening[queue]; ok || idx < 0 || m.ctx == nil || m.ctx.Err() != nil {
		return
	}
	lctx, cancel := context.WithCancel(m.ctx)
	l := &listener{index: idx, cancel: cancel, done: make(chan struct{})}
	m.listening[queue] = l
	m.b.log.Info("acquired partition", "queue", queue, "worker", m.b.opts.WorkerID)
	go func() {
		defer close(l.done)
		m.b.pollPartition(lctx, idx)
	}()
}

// done is closed when run's context ends.
func (m *blobPartitionManager) done() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ctx.Done()
}

func (m *blobPartitionManager) owns(queue string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.listening[queue]
	return ok
}

// busy reports whether a work item of the queue's partition is in flight.
func (m *blobPartitionManager) busy(queue string) bool {
	idx := m.b.names.ControlQueueIndex(queue)
	m.b.mu.Lock()
	defer m.b.mu.Unlock()
	for _, s := range m.b.sessions {
		if s.partition == idx {
			return true
		}
	}
	return false
}

func (m *blobPartitionManager) stopListening(queue string) {
	m.mu.Lock()
	l, ok := m.listening[queue]
	delete(m.listening, queue)
	m.mu.Unlock()
	if ok {
		l.cancel()
		<-l.done
		m.b.cache.dropPartition(l.index)
		m.b.log.Info("stopped reading partition", "queue", queue, "worker", m.b.opts.WorkerID)
	}
}

func (m *blobPartitionManager) stopAll() {
	m.mu.Lock()
	queues := make([]string, 0, len(m.listening))
	for q := range m.listening {
		queues = append(queues, q)
	}
	m.mu.Unlock()
	for _, q := range queues {
		m.stopListening(q)
	}
}

package azstorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// Options configures the Azure Storage backend. Zero values take
// DurableTask.AzureStorage's defaults.
type Options struct {
	TaskHub        string // required
	PartitionCount int    // control queues, 1..16 (default 4)
	// WorkerID names this worker in the Partitions table (default: host
	// name and process id).
	WorkerID string

	ControlQueueBatchSize int // messages per control-queue poll (default 32, max 32)
	// ControlQueueVisibility and WorkItemQueueVisibility are how long a
	// message this worker took (dequeued, or enqueued to hand it over in
	// process) stays hidden from other readers. The worker extends it by
	// the same amount whenever a third of it has passed while it still
	// holds the message, so it bounds how long a crashed worker's messages
	// stay hidden, not how long an episode or activity may take (default
	// 30 s each; Durable Task's 5 minutes without the renewals).
	ControlQueueVisibility  time.Duration
	WorkItemQueueVisibility time.Duration
	MaxPollingInterval      time.Duration // longest idle poll delay (default 30 s)

	// Partition lease timings (Partitions table manager).
	LeaseInterval        time.Duration // default 30 s
	LeaseRenewInterval   time.Duration // default 10 s
	LeaseAcquireInterval time.Duration // default 10 s

	// PartitionManagement selects how workers share control queues
	// (default TablePartitions). It must match every other worker of the
	// hub; CreateTaskHub and Start refuse a hub that storage shows to be
	// managed otherwise (ErrPartitionSchemeMismatch). With the blob lease
	// schemes LeaseInterval is the blob lease's duration, 15 to 60 s.
	PartitionManagement PartitionManagement

	// UseAppLease runs the partition manager only while this app holds the
	// lease of the {hub}-applease container (Durable Functions'
	// useAppLease). The lease id derives from AppName, so every worker of
	// one app shares it, and an app with another name waits until the
	// lease is free.
	UseAppLease bool
	AppName     string // WEBSITE_SITE_NAME; "" is a valid name
	AppLease    AppLeaseOptions

	// HistoryCacheSize bounds how many instances' histories are kept in
	// memory between episodes (default 2000; negative disables).
	HistoryCacheSize int
	// UseInstanceTableETag makes a checkpoint's Instances-row write
	// conditional on the row being the one its work item saw (If-Match on
	// its ETag, or an insert when there was none), as DurableTask's
	// UseInstanceTableEtag does: a worker that stalled while another one
	// moved the instance on fails its checkpoint (ErrConflict) instead of
	// writing a stale status. It costs a row read per work item.
	UseInstanceTableETag bool

	// ExtendedSessionIdleTimeout drops an instance's cached history after
	// it went unused this long, as Durable Task ends an idle extended
	// session (extendedSessionIdleTimeoutInSeconds); 0 keeps entries until
	// the size bound or a partition move evicts them.
	ExtendedSessionIdleTimeout time.Duration

	// StartWriteTimeout bounds how long starting an instance may take
	// (default 15 s): its Instances row is written within it or never. A
	// start message whose row has not appeared twice that long after it
	// was sent is discarded as the orphan of a start that failed.
	StartWriteTimeout time.Duration

	// MaxDequeueCount is how often a message may be delivered before it
	// is moved to the {hub}-poison queue (default 10).
	MaxDequeueCount int

	// Base64Messages writes queue messages as base64 (needed when DF v2 /
	// DurableTask.AzureStorage 1.x workers share the hub); the default is
	// raw UTF-8 JSON, as current Durable Functions writes.
	Base64Messages bool

	// QueueActivityResults sends every activity result through the
	// control queue, as Durable Task does. By default a result for an
	// instance whose partition this worker owns is handed over in process
	// and its work item deleted once the result is in history (two storage
	// operations fewer per activity; see carried.go).
	QueueActivityResults bool

	// WakeUpQueue writes, for every delayed message (durable timers,
	// scheduled starts, delayed entity signals), a small wake-up message
	// with the same delay to the queue "{hub}-wakeup", which a
	// queue-triggered function of the app watches: on the Consumption plan
	// the platform then starts an instance of an idle app when a timer
	// comes due (see timerwake.go). CreateTaskHub creates the queue.
	WakeUpQueue bool

	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if err := ValidateHubName(o.TaskHub); err != nil {
		return err
	}
	if o.PartitionCount == 0 {
		o.PartitionCount = 4
	}
	if o.PartitionCount < 1 || o.PartitionCount > 16 {
		return fmt.Errorf("azstorage: partition count %d is outside 1..16", o.PartitionCount)
	}
	if o.WorkerID == "" {
		h, _ := os.Hostname()
		o.WorkerID = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if o.ControlQueueBatchSize <= 0 || o.ControlQueueBatchSize > 32 {
		o.ControlQueueBatchSize = 32
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ControlQueueVisibility, 30*time.Second)
	def(&o.WorkItemQueueVisibility, 30*time.Second)
	def(&o.MaxPollingInterval, 30*time.Second)
	def(&o.LeaseInterval, 30*time.Second)
	def(&o.LeaseRenewInterval, 10*time.Second)
	def(&o.LeaseAcquireInterval, 10*time.Second)
	def(&o.StartWriteTimeout, 15*time.Second)
	if o.PartitionManagement < TablePartitions || o.PartitionManagement > LegacyBlobLeases {
		return fmt.Errorf("azstorage: unknown partition management %d", int(o.PartitionManagement))
	}
	if o.PartitionManagement != TablePartitions {
		if err := validBlobLease("partition lease interval", o.LeaseInterval); err != nil {
			return err
		}
	}
	if o.UseAppLease {
		if err := o.AppLease.setDefaults(); err != nil {
			return err
		}
	}
	if o.HistoryCacheSize == 0 {
		o.HistoryCacheSize = 2000
	}
	if o.MaxDequeueCount <= 0 {
		o.MaxDequeueCount = 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// Backend is the Azure Storage provider: a task hub laid out exactly as
// DurableTask.AzureStorage lays it out.
type Backend struct {
	c     *Clients
	names Names
	opts  Options
	log   *slog.Logger

	work       chan *backend.OrchestrationWorkItem
	activities chan *backend.ActivityWorkItem

	mu       sync.Mutex
	sessions map[string]*session // instances with a work item in flight
	pollers  map[int]*pollBackoff

	seq     atomic.Int64 // MessageData.SequenceNumber
	started atomic.Bool
	cancel  context.CancelFunc
	bg      sync.WaitGroup
	// stopRenewals ends renewHeld, which closes renewDone.
	stopRenewals context.CancelFunc
	renewDone    chan struct{}
	parts        partitioner
	checked      atomic.Bool // the hub's partition scheme agreed with the configured one

	held        heldMessages     // messages kept invisible while this worker holds them
	wallNow     func() time.Time // the wall clock of timer claims (nil: time.Now; tests step it)
	rowRetryFor time.Duration    // how long a row write is retried (0: a minute; tests shorten it)
	actBackoff  *pollBackoff
	cache       *historyCache
	rows        rowWriter                       // Instances rows written after their history (instancewriter.go)
	runCtx      atomic.Pointer[context.Context] // the background context of Start
	deferrals   deferralLog                     // messages this process put back on purpose
	ready       readyLine                       // work items built and not yet fetched (startgate.go)
	// rowDeferral is how long a quiet Instances row update may wait for
	// the next (instancewriter.go); tests change it.
	rowDeferral time.Duration
}

var _ backend.Backend = (*Backend)(nil)

// New returns the backend for a task hub in the account behind clients.
func New(clients *Clients, opts Options) (*Backend, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	names, err := NewNames(opts.TaskHub, opts.PartitionCount)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		c: clients, names: names, opts: opts, log: opts.Logger.With("taskHub", opts.TaskHub),
		work:        make(chan *backend.OrchestrationWorkItem),
		activities:  make(chan *backend.ActivityWorkItem),
		sessions:    map[string]*session{},
		pollers:     map[int]*pollBackoff{},
		actBackoff:  newPollBackoff(opts.MaxPollingInterval),
		cache:       newHistoryCache(opts.HistoryCacheSize, opts.ExtendedSessionIdleTimeout),
		rowDeferral: rowDeferral,
	}
	for i := 0; i < opts.PartitionCount; i++ {
		b.pollers[i] = newPollBackoff(opts.MaxPollingInterval)
	}
	b.parts = newPartitioner(b)
	if opts.PartitionManagement != TablePartitions && !opts.Base64Messages {
		b.log.Info("blob lease partitions with raw JSON queue messages: Durable Functions v2 workers sharing this hub cannot read them (useBase64QueueMessages)")
	}
	return b, nil
}

// Names returns the task hub's resource names.
func (b *Backend) Names() Names { return b.names }

// WorkerID is this worker's id in the Partitions table.
func (b *Backend) WorkerID() string { return b.opts.WorkerID }

// Start claims partitions and starts polling. It returns once the
// background loops are running.
func (b *Backend) Start(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("azstorage: backend already started")
	}
	if !b.checked.Load() {
		if err := b.checkPartitionScheme(ctx); err != nil {
			b.started.Store(false)
			return err
		}
		b.checked.Store(true)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.ready.reset()
	b.runCtx.Store(&ctx)
	// The renewals outlive the loops below a little: work in flight at a
	// stop finishes and its messages stay hidden until it does.
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	b.stopRenewals = rcancel
	b.renewDone = make(chan struct{})
	go func() { defer close(b.renewDone); b.renewHeld(rctx) }()
	// Work items a previous process of this worker held reappear within
	// one visibility timeout.
	b.actBackoff.hurry(b.opts.WorkItemQueueVisibility)
	b.bg.Add(2)
	go func() { defer b.bg.Done(); b.parts.run(ctx) }()
	go func() { defer b.bg.Done(); b.pollActivities(ctx) }()
	return nil
}

// Stop stops polling, releases this worker's partitions and waits for the
// background loops to end.
func (b *Backend) Stop(ctx context.Context) error {
	if b.cancel == nil {
		return nil
	}
	b.cancel()
	done := make(chan struct{})
	go func() { b.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("azstorage: stop: %w", ctx.Err())
	}
	b.stopRenewals()
	<-b.renewDone
	return b.parts.releaseAll(ctx)
}

// FetchOrchestrationWorkItem implements backend.Backend.
func (b *Backend) FetchOrchestrationWorkItem(ctx context.Context) (*backend.OrchestrationWorkItem, error) {
	select {
	case wi := <-b.work:
		b.ready.leave(wi)
		return wi, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// FetchActivityWorkItem implements backend.Backend.
func (b *Backend) FetchActivityWorkItem(ctx context.Context) (*backend.ActivityWorkItem, error) {
	select {
	case wi := <-b.activities:
		return wi, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// wakePartition resets the idle backoff of a partition this process polls,
// so a message it just enqueued is picked up without waiting.
func (b *Backend) wakePartition(i int) {
	if p := b.pollers[i]; p != nil {
		p.poke()
	}
}

package azstorage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// blobLease is the content of a lease blob ({hub}-leases/{folder}/{queue})
// as DurableTask.AzureStorage 1.x serializes its BlobLease: PartitionId,
// Owner, Token (the blob lease id, which lets another worker change the
// lease to steal it), Epoch (incremented on every acquisition); Owner and
// Token are null while nobody holds it.
type blobLease struct {
	PartitionID string  `json:"PartitionId"`
	Owner       *string `json:"Owner"`
	Token       *string `json:"Token"`
	Epoch       int64   `json:"Epoch"`

	name   string // blob name
	leased bool   // the blob's lease state is "leased"
}

func (l *blobLease) owner() string { return deref(l.Owner) }
func (l *blobLease) token() string { return deref(l.Token) }

func (l *blobLease) marshal() []byte {
	return marshalNewtonsoft(struct {
		PartitionID string  `json:"PartitionId"`
		Owner       *string `json:"Owner"`
		Token       *string `json:"Token"`
		Epoch       int64   `json:"Epoch"`
	}{l.PartitionID, l.Owner, l.Token, l.Epoch})
}

// expired is DurableTask's test: the blob is not leased, whatever its
// content says.
func (l *blobLease) expired() bool { return !l.leased }

func (b *Backend) readLeaseBlob(ctx context.Context, name string) (*blobLease, error) {
	data, leased, err := b.downloadLeasesBlob(ctx, name)
	if err != nil {
		return nil, err
	}
	l := &blobLease{}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), l); err != nil {
		return nil, fmt.Errorf("azstorage: %s/%s is not a lease: %w", b.names.LeasesContainer(), name, err)
	}
	l.name, l.leased = name, leased
	return l, nil
}

// listLeases reads every lease blob of a folder.
func (b *Backend) listLeases(ctx context.Context, dir string) ([]*blobLease, error) {
	container := b.names.LeasesContainer()
	prefix := dir + "/"
	var names []string
	pager := b.c.Blob.NewListBlobsFlatPager(container, &listOpts{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("azstorage: list %s/%s: %w", container, prefix, err)
		}
		for _, item := range page.Segment.BlobItems {
			names = append(names, deref(item.Name))
		}
	}
	sort.Strings(names)
	out := make([]*blobLease, len(names))
	err := inParallel(len(names), func(i int) error {
		l, err := b.readLeaseBlob(ctx, names[i])
		out[i] = l
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// leaseClient is a lease client for a lease blob acting with leaseID.
func (b *Backend) leaseClient(name, leaseID string) *lease.BlobClient {
	bc := b.c.Blob.ServiceClient().NewContainerClient(b.names.LeasesContainer()).NewBlobClient(name)
	lc, _ := lease.NewBlobClient(bc, &lease.BlobClientOptions{LeaseID: &leaseID}) // fails only on a nil client
	return lc
}

// errLeaseLost marks a lease operation refused because another worker
// holds or changed the lease (409/412).
type errLeaseLost struct{ err error }

func (e errLeaseLost) Error() string { return "lease lost: " + e.err.Error() }
func (e errLeaseLost) Unwrap() error { return e.err }

func leaseErr(err error) error {
	if err != nil && isConflict(err) {
		return errLeaseLost{err}
	}
	return err
}

// acquireBlobLease takes a lease blob for owner: a new blob lease if it is
// not leased, else a change of the current lease (whose id the content
// names), which is how DurableTask steals. Owner and Epoch+1 are written
// under the new lease.
func (b *Backend) acquireBlobLease(ctx context.Context, l *blobLease, owner string, d time.Duration) error {
	id := newGUID()
	if l.leased {
		if _, err := b.leaseClient(l.name, l.token()).ChangeLease(ctx, id, nil); err != nil {
			return leaseErr(err)
		}
	} else {
		if _, err := b.leaseClient(l.name, id).AcquireLease(ctx, int32(d/time.Second), nil); err != nil {
			return leaseErr(err)
		}
	}
	l.Token, l.Owner, l.leased = &id, &owner, true
	l.Epoch++
	return leaseErr(b.uploadLeasesBlob(ctx, l.name, l.marshal(), false, id))
}

func (b *Backend) renewBlobLease(ctx context.Context, l *blobLease) error {
	_, err := b.leaseClient(l.name, l.token()).RenewLease(ctx, nil)
	return leaseErr(err)
}

// releaseBlobLease writes the lease with Owner and Token null, then
// releases the blob lease.
func (b *Backend) releaseBlobLease(ctx context.Context, l *blobLease) error {
	id := l.token()
	released := blobLease{PartitionID: l.PartitionID, Epoch: l.Epoch, name: l.name}
	if err := b.uploadLeasesBlob(ctx, l.name, released.marshal(), false, id); err != nil {
		return leaseErr(err)
	}
	_, err := b.leaseClient(l.name, id).ReleaseLease(ctx, nil)
	return leaseErr(err)
}

// leaseTimings are one lease collection's intervals.
type leaseTimings struct {
	acquire, renew, lease time.Duration
}

// leaseBalancer keeps a fair share of one folder's lease blobs, as
// DurableTask.AzureStorage 1.x's LeaseCollectionBalancer does: every
// acquire interval it lists the folder, takes expired (unleased) or
// ownerless leases up to its target share, ceil(leases / workers), and
// with steal set takes one lease per round from the worker owning the
// most once no lease is free; every renew interval it renews its leases
// and gives up those it lost or may not keep.
type leaseBalancer struct {
	b       *Backend
	dir     string
	me      string
	t       leaseTimings
	steal   bool
	mayAcq  func(queue string) bool // nil: always
	mayKeep func(queue string) bool // nil: always
	// acquired and released run on the loops' goroutines. released's
	// lost is true when the lease was lost rather than given up.
	// acquired's stolen is true when the lease was taken from a live owner.
	acquired func(queue string, stolen bool)
	released func(queue string, lost bool)

	mu    sync.Mutex
	owned map[string]*blobLease
}

func (lb *leaseBalancer) holds(queue string) bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	_, ok := lb.owned[queue]
	return ok
}

// run takes and renews until ctx ends; then it releases every lease it
// holds (with a fresh context, bounded by the lease interval).
func (lb *leaseBalancer) run(ctx context.Context) {
	lb.init()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lb.loop(ctx, lb.t.renew, lb.renewAll)
	}()
	lb.loop(ctx, lb.t.acquire, lb.take)
	wg.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lb.t.lease)
	defer cancel()
	lb.releaseAll(rctx)
}

func (lb *leaseBalancer) init() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.owned == nil {
		lb.owned = map[string]*blobLease{}
	}
}

// adopt takes back, by renewing them, the leases this worker id still
// holds from before a restart, as DurableTask's balancer does on start.
func (lb *leaseBalancer) adopt(ctx context.Context) {
	lb.init()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	all, err := lb.b.listLeases(rctx, lb.dir)
	if err != nil {
		lb.b.log.Warn("reading blob leases at start failed", "leases", lb.dir, "error", err)
		return
	}
	for _, l := range all {
		if !l.leased || !strings.EqualFold(l.owner(), lb.me) || lb.b.names.ControlQueueIndex(l.PartitionID) < 0 {
			continue
		}
		if lb.mayAcq != nil && !lb.mayAcq(l.PartitionID) {
			continue
		}
		if err := lb.b.renewBlobLease(rctx, l); err != nil {
			continue
		}
		lb.b.log.Info("kept blob lease from before a restart", "leases", lb.dir, "queue", l.PartitionID, "worker", lb.me)
		lb.mu.Lock()
		lb.owned[l.PartitionID] = l
		lb.mu.Unlock()
		if lb.acquired != nil {
			lb.acquired(l.PartitionID, false)
		}
	}
}

func (lb *leaseBalancer) loop(ctx context.Context, every time.Duration, f func(context.Context) error) {
	for ctx.Err() == nil {
		if err := f(ctx); err != nil && ctx.Err() == nil {
			lb.b.log.Warn("blob lease round failed", "leases", lb.dir, "worker", lb.me, "error", err)
		}
		select {
		case <-time.After(every):
		case <-ctx.Done():
		}
	}
}

func (lb *leaseBalancer) take(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	all, err := lb.b.listLeases(rctx, lb.dir)
	if err != nil {
		return err
	}
	var shards, expired []*blobLease
	counts := map[string]int{lb.me: 0}
	var order []string // owners in the order first seen, as .NET's dictionary
	for _, l := range all {
		if lb.b.names.ControlQueueIndex(l.PartitionID) < 0 {
			continue
		}
		if lb.mayAcq != nil && !lb.mayAcq(l.PartitionID) {
			continue
		}
		shards = append(shards, l)
		if l.expired() || l.owner() == "" {
			expired = append(expired, l)
			continue
		}
		if _, seen := counts[l.owner()]; !seen {
			order = append(order, l.owner())
		}
		counts[l.owner()]++
	}
	if len(shards) == 0 {
		return nil
	}
	workers := len(counts)
	target := 1
	if len(shards) > workers {
		target = int(math.Ceil(float64(len(shards)) / float64(workers)))
	}
	need := len(expired)
	if lb.steal {
		need = target - counts[lb.me]
	}
	if need <= 0 {
		return nil
	}
	if len(expired) > 0 {
		for _, l := range expired {
			if need == 0 {
				break
			}
			if lb.takeOne(rctx, l, "acquired") {
				need--
			}
		}
		return nil
	}
	if !lb.steal {
		return nil
	}
	victim, most := "", 0
	for _, w := range order {
		if counts[w] > most {
			victim, most = w, counts[w]
		}
	}
	slack := 0
	if need > 1 {
		slack = 1
	}
	if victim == "" || victim == lb.me || most <= target-slack {
		return nil
	}
	for _, l := range shards {
		if l.owner() == victim && lb.takeOne(rctx, l, "stole") {
			break // one steal per round
		}
	}
	return nil
}

func (lb *leaseBalancer) takeOne(ctx context.Context, l *blobLease, verb string) bool {
	if lb.holds(l.PartitionID) {
		return false
	}
	from := l.owner()
	if err := lb.b.acquireBlobLease(ctx, l, lb.me, lb.t.lease); err != nil {
		if _, lost := err.(errLeaseLost); !lost {
			lb.b.log.Warn("blob lease acquisition failed", "leases", lb.dir, "queue", l.PartitionID, "error", err)
		}
		return false
	}
	lb.b.log.Info(verb+" blob lease", "leases", lb.dir, "queue", l.PartitionID, "worker", lb.me, "from", from, "epoch", l.Epoch)
	lb.mu.Lock()
	lb.owned[l.PartitionID] = l
	lb.mu.Unlock()
	if lb.acquired != nil {
		lb.acquired(l.PartitionID, verb == "stole")
	}
	return true
}

// renewAll renews every held lease; a lease another worker took, or one
// mayKeep no longer allows, is given up.
func (lb *leaseBalancer) renewAll(ctx context.Context) error {
	lb.mu.Lock()
	held := make([]*blobLease, 0, len(lb.owned))
	for _, l := range lb.owned {
		held = append(held, l)
	}
	lb.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return inParallel(len(held), func(i int) error {
		l := held[i]
		if lb.mayKeep != nil && !lb.mayKeep(l.PartitionID) {
			lb.drop(rctx, l, false)
			return nil
		}
		err := lb.b.renewBlobLease(rctx, l)
		if _, lost := err.(errLeaseLost); lost {
			lb.drop(rctx, l, true)
			return nil
		}
		// Other errors count as renewed, as in DurableTask: a storage
		// outage must not make every worker drop its partitions.
		if err != nil {
			return fmt.Errorf("renew %s/%s: %w", lb.dir, l.PartitionID, err)
		}
		return nil
	})
}

// drop forgets a lease, tells the owner of the balancer, and releases the
// blob lease unless it was lost.
func (lb *leaseBalancer) drop(ctx context.Context, l *blobLease, lost bool) {
	lb.mu.Lock()
	_, ok := lb.owned[l.PartitionID]
	delete(lb.owned, l.PartitionID)
	lb.mu.Unlock()
	if !ok {
		return
	}
	if lb.released != nil {
		lb.released(l.PartitionID, lost)
	}
	if lost {
		lb.b.log.Info("lost blob lease", "leases", lb.dir, "queue", l.PartitionID, "worker", lb.me)
		return
	}
	if err := lb.b.releaseBlobLease(ctx, l); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		lb.b.log.Warn("releasing blob lease failed", "leases", lb.dir, "queue", l.PartitionID, "error", err)
		return
	}
	lb.b.log.Info("released blob lease", "leases", lb.dir, "queue", l.PartitionID, "worker", lb.me)
}

func (lb *leaseBalancer) releaseAll(ctx context.Context) {
	lb.mu.Lock()
	held := make([]*blobLease, 0, len(lb.owned))
	for _, l := range lb.owned {
		held = append(held, l)
	}
	lb.mu.Unlock()
	_ = inParallel(len(held), func(i int) error {
		lb.drop(ctx, held[i], false)
		return nil
	})
}

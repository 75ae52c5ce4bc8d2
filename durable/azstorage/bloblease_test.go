package azstorage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable"
)

// The blob lease tests prepare hubs with exactly the blobs
// DurableTask.AzureStorage 1.x writes (BlobLeaseManager, AppLeaseManager):
// container {hub}-leases with taskhub.json (TaskHubInfo) and one lease blob
// per control queue in intent/ and ownership/, {"PartitionId","Owner",
// "Token","Epoch"}, and {hub}-applease with {hub}-appleaseinfo "{}".

func uniqueHub(prefix string) string {
	return fmt.Sprintf("%s%d%s", prefix, hubCounter.Add(1), time.Now().Format("150405"))
}

// blobOpts are fast blob-lease settings: the shortest blob lease (15 s)
// with quick acquire and renew rounds.
func blobOpts(hub, worker string) Options {
	return Options{TaskHub: hub, PartitionCount: 4, WorkerID: worker, PartitionManagement: BlobLeases,
		MaxPollingInterval: 200 * time.Millisecond, LeaseInterval: 15 * time.Second,
		LeaseRenewInterval: time.Second, LeaseAcquireInterval: 200 * time.Millisecond}
}

func newBackendFor(t *testing.T, c *Clients, o Options) *Backend {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t).With("worker", o.WorkerID)
	}
	b, err := New(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newCreatedBackend is a backend with o whose task hub it has created;
// the hub is deleted when the test ends.
func newCreatedBackend(t *testing.T, c *Clients, o Options) *Backend {
	t.Helper()
	b := newBackendFor(t, c, o)
	deleteHubAtEnd(t, b)
	if err := b.CreateTaskHub(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

// newBase64Backend is go-1 on a new blob lease hub that writes base64
// message bodies, as 1.x does; its task hub is created.
func newBase64Backend(t *testing.T, prefix string) *Backend {
	t.Helper()
	o := blobOpts(uniqueHub(prefix), "go-1")
	o.Base64Messages = true
	return newCreatedBackend(t, testClients(t), o)
}

func deleteHubAtEnd(t *testing.T, b *Backend) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.DeleteTaskHub(ctx)
		for _, c := range []string{b.names.LeasesContainer(), b.names.AppLeaseContainer()} {
			_, _ = b.c.Blob.DeleteContainer(ctx, c, nil)
		}
	})
}

func putBlob(t *testing.T, c *Clients, container, name, text string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Blob.CreateContainer(ctx, container, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		t.Fatal(err)
	}
	if _, err := c.Blob.UploadBuffer(ctx, container, name, []byte(text), nil); err != nil {
		t.Fatalf("upload %s/%s: %v", container, name, err)
	}
}

func getBlob(t *testing.T, c *Clients, container, name string) (string, lease.StateType) {
	t.Helper()
	resp, err := c.Blob.DownloadStream(context.Background(), container, name, nil)
	if err != nil {
		t.Fatalf("download %s/%s: %v", container, name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return string(data), *resp.LeaseState
}

const dotNetTaskHubJSON = `{"TaskHubName":"%s","CreatedAt":"2024-05-01T10:20:30.1234567Z","PartitionCount":%d}`

// prepareDotNetHub lays out a hub as DurableTask.AzureStorage 1.x's
// EnsureTaskHub leaves it with the default (safe) partition manager.
func prepareDotNetHub(t *testing.T, c *Clients, hub string, partitions int) {
	t.Helper()
	lc := strings.ToLower(hub)
	putBlob(t, c, lc+"-leases", "taskhub.json", fmt.Sprintf(dotNetTaskHubJSON, hub, partitions))
	for _, dir := range []string{"intent", "ownership"} {
		for i := 0; i < partitions; i++ {
			q := fmt.Sprintf("%s-control-%02d", lc, i)
			putBlob(t, c, lc+"-leases", dir+"/"+q, `{"PartitionId":"`+q+`","Owner":null,"Token":null,"Epoch":0}`)
		}
	}
	putBlob(t, c, lc+"-applease", lc+"-appleaseinfo", "{}")
}

// dotNetHub prepares a new hub as 1.x lays it out with four partitions;
// it returns the clients, the hub's name and its lower-case form (which
// its containers and queues are named after).
func dotNetHub(t *testing.T, prefix string) (c *Clients, hub, lc string) {
	t.Helper()
	c = testClients(t)
	hub = uniqueHub(prefix)
	prepareDotNetHub(t, c, hub, 4)
	return c, hub, strings.ToLower(hub)
}

// dotNetWorker simulates a DurableTask.AzureStorage 1.x worker holding
// leases: it acquires blob leases and writes their content as .NET does,
// and renews them until stopped. When another worker steals one of its
// intent leases it gives up the ownership lease of that queue, as .NET
// does once the queue is drained (.NET lets it expire; releasing keeps the
// test short).
type dotNetWorker struct {
	t      *testing.T
	c      *Clients
	hub    string
	name   string
	mu     sync.Mutex
	tokens map[string]string // blob name → lease id
	stop   chan struct{}
	done   chan struct{}
	lost   atomic.Int32
}

func newDotNetWorker(t *testing.T, c *Clients, hub, name string) *dotNetWorker {
	return &dotNetWorker{t: t, c: c, hub: hub, name: name, tokens: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
}

func (w *dotNetWorker) container() string { return strings.ToLower(w.hub) + "-leases" }

func (w *dotNetWorker) blobClient(name string, id string) *lease.BlobClient {
	bc := w.c.Blob.ServiceClient().NewContainerClient(w.container()).NewBlobClient(name)
	lc, err := lease.NewBlobClient(bc, &lease.BlobClientOptions{LeaseID: &id})
	if err != nil {
		w.t.Fatal(err)
	}
	return lc
}

func (w *dotNetWorker) hold(queues ...string) {
	w.t.Helper()
	ctx := context.Background()
	for _, q := range queues {
		for _, dir := range []string{"intent", "ownership"} {
			name := dir + "/" + q
			id := newGUID()
			if _, err := w.blobClient(name, id).AcquireLease(ctx, 15, nil); err != nil {
				w.t.Fatalf("acquire %s: %v", name, err)
			}
			body := `{"PartitionId":"` + q + `","Owner":"` + w.name + `","Token":"` + id + `","Epoch":1}`
			if _, err := w.c.Blob.UploadBuffer(ctx, w.container(), name, []byte(body), &azblob.UploadBufferOptions{
				AccessConditions: &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: &id}}}); err != nil {
				w.t.Fatalf("write %s: %v", name, err)
			}
			w.mu.Lock()
			w.tokens[name] = id
			w.mu.Unlock()
		}
	}
}

// renew keeps the leases until stopRenewing (a crash: nothing released).
func (w *dotNetWorker) renew() {
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			w.mu.Lock()
			names := make([]string, 0, len(w.tokens))
			for n := range w.tokens {
				names = append(names, n)
			}
			w.mu.Unlock()
			for _, name := range names {
				if !strings.HasPrefix(name, "intent/") {
					continue
				}
				w.mu.Lock()
				id := w.tokens[name]
				w.mu.Unlock()
				if _, err := w.blobClient(name, id).RenewLease(context.Background(), nil); err != nil {
					// Lost to a steal: drop the queue and give up ownership.
					w.lost.Add(1)
					own := "ownership/" + strings.TrimPrefix(name, "intent/")
					w.mu.Lock()
					oid := w.tokens[own]
					delete(w.tokens, name)
					delete(w.tokens, own)
					w.mu.Unlock()
					_, _ = w.blobClient(own, oid).ReleaseLease(context.Background(), nil)
				}
			}
			w.mu.Lock()
			for name, id := range w.tokens {
				if strings.HasPrefix(name, "ownership/") {
					_, _ = w.blobClient(name, id).RenewLease(context.Background(), nil)
				}
			}
			w.mu.Unlock()
		}
	}()
}

func (w *dotNetWorker) stopRenewing() {
	close(w.stop)
	<-w.done
}

func (w *dotNetWorker) holds() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.tokens) / 2
}

func ownedQueues(b *Backend) []string {
	var out []string
	for _, q := range b.names.ControlQueues() {
		if b.parts.owns(q) {
			out = append(out, q)
		}
	}
	return out
}

func waitLong(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

func startBackend(t *testing.T, b *Backend) func() {
	t.Helper()
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", b.opts.WorkerID, err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// A hub laid out by DurableTask.AzureStorage 1.x is recognised: the table
// scheme (and the legacy blob scheme) refuse it without creating anything
// of theirs, the blob lease scheme accepts it and leaves its taskhub.json
// and leases as they are.
func TestDotNetBlobLeaseHubIsDetected(t *testing.T) {
	c, hub, _ := dotNetHub(t, "Dn")
	ctx := context.Background()

	for _, pm := range []PartitionManagement{TablePartitions, LegacyBlobLeases} {
		o := blobOpts(hub, "go-1")
		o.PartitionManagement = pm
		b := newBackendFor(t, c, o)
		deleteHubAtEnd(t, b)
		err := b.CreateTaskHub(ctx)
		if !errors.Is(err, ErrPartitionSchemeMismatch) {
			t.Fatalf("%v: CreateTaskHub = %v, want ErrPartitionSchemeMismatch", pm, err)
		}
		if !strings.Contains(err.Error(), hub+"-leases") && !strings.Contains(err.Error(), strings.ToLower(hub)+"-leases") {
			t.Errorf("the error does not name the leases container: %v", err)
		}
		if err := b.Start(ctx); !errors.Is(err, ErrPartitionSchemeMismatch) {
			t.Fatalf("%v: Start = %v, want ErrPartitionSchemeMismatch", pm, err)
		}
		if tableExists(t, c, b.names.PartitionsTable()) {
			t.Fatalf("%v: a refused start created %s", pm, b.names.PartitionsTable())
		}
	}

	b := newBackendFor(t, c, blobOpts(hub, "go-1"))
	if err := b.CreateTaskHub(ctx); err != nil {
		t.Fatalf("blob leases on a 1.x hub: %v", err)
	}
	if got, _ := getBlob(t, c, b.names.LeasesContainer(), "taskhub.json"); got != fmt.Sprintf(dotNetTaskHubJSON, hub, 4) {
		t.Errorf("taskhub.json rewritten: %s", got)
	}
	q := b.names.ControlQueue(2)
	if got, _ := getBlob(t, c, b.names.LeasesContainer(), "ownership/"+q); got != `{"PartitionId":"`+q+`","Owner":null,"Token":null,"Epoch":0}` {
		t.Errorf("lease rewritten: %s", got)
	}
	if tableExists(t, c, b.names.PartitionsTable()) {
		t.Errorf("blob leases created %s", b.names.PartitionsTable())
	}
}

func tableExists(t *testing.T, c *Clients, name string) bool {
	t.Helper()
	filter := "TableName eq '" + name + "'"
	p := c.Table.NewListTablesPager(&aztables.ListTablesOptions{Filter: &filter})
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tables) > 0 {
			return true
		}
	}
	return false
}

// A fresh hub created with blob leases holds the blobs 1.x writes.
func TestBlobLeaseHubIsCreatedAsDotNetDoes(t *testing.T) {
	c := testClients(t)
	hub := uniqueHub("Mk")
	b := newCreatedBackend(t, c, blobOpts(hub, "go-1"))
	info, _ := getBlob(t, c, b.names.LeasesContainer(), "taskhub.json")
	var ti map[string]any
	if err := json.Unmarshal([]byte(info), &ti); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info, `{"TaskHubName":"`+hub+`","CreatedAt":"`) || !strings.HasSuffix(info, `","PartitionCount":4}`) {
		t.Errorf("taskhub.json = %s", info)
	}
	if _, err := parseDotNetTime(ti["CreatedAt"].(string)); err != nil {
		t.Errorf("CreatedAt: %v", err)
	}
	for _, dir := range []string{"intent", "ownership"} {
		for _, q := range b.names.ControlQueues() {
			got, state := getBlob(t, c, b.names.LeasesContainer(), dir+"/"+q)
			if got != `{"PartitionId":"`+q+`","Owner":null,"Token":null,"Epoch":0}` || state != lease.StateTypeAvailable {
				t.Errorf("%s/%s = %s (%s)", dir, q, got, state)
			}
		}
	}
	if got, _ := getBlob(t, c, b.names.AppLeaseContainer(), b.names.AppLeaseInfoBlob()); got != "{}" {
		t.Errorf("app lease info = %s", got)
	}
}

// A hub of the table scheme refuses blob leases, and a hub whose blob
// leases are held right now refuses the table scheme even when its
// Partitions table exists too.
func TestMismatchedPartitionManagementRefusesToStart(t *testing.T) {
	c := testClients(t)
	ctx := context.Background()
	tb := newTestBackend(t) // table partitions
	b := newBackendFor(t, c, blobOpts(tb.opts.TaskHub, "go-1"))
	err := b.CreateTaskHub(ctx)
	if !errors.Is(err, ErrPartitionSchemeMismatch) || !strings.Contains(err.Error(), tb.names.PartitionsTable()) {
		t.Fatalf("CreateTaskHub = %v, want ErrPartitionSchemeMismatch naming %s", err, tb.names.PartitionsTable())
	}
	if err := b.Start(ctx); !errors.Is(err, ErrPartitionSchemeMismatch) {
		t.Fatalf("Start = %v", err)
	}
	if _, err := c.Blob.ServiceClient().NewContainerClient(b.names.LeasesContainer()).GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.ContainerNotFound) {
		t.Fatalf("a refused start created %s: %v", b.names.LeasesContainer(), err)
	}

	// Both layouts, a .NET worker holding blob leases: the table side refuses.
	prepareDotNetHub(t, c, tb.opts.TaskHub, 4)
	dn := newDotNetWorker(t, c, tb.opts.TaskHub, "dotnet-1")
	dn.hold(tb.names.ControlQueue(1))
	t1 := newBackendFor(t, c, Options{TaskHub: tb.opts.TaskHub, PartitionCount: 4, WorkerID: "go-2"})
	if err := t1.Start(ctx); !errors.Is(err, ErrPartitionSchemeMismatch) || !strings.Contains(err.Error(), "dotnet-1") {
		t.Fatalf("Start with a live blob lease = %v, want ErrPartitionSchemeMismatch naming dotnet-1", err)
	}
	// Nobody holds a blob lease any more (released): accepted with a warning.
	for name, id := range dn.tokens {
		if _, err := dn.blobClient(name, id).ReleaseLease(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := t1.checkPartitionScheme(ctx); err != nil {
		t.Fatalf("idle leases of the other scheme: %v", err)
	}
}

// taskhub.json with another partition count refuses to start.
func TestTaskHubJSONPartitionCountMismatch(t *testing.T) {
	c, hub, _ := dotNetHub(t, "Pc")
	o := blobOpts(hub, "go-1")
	o.PartitionCount = 2
	b := newBackendFor(t, c, o)
	deleteHubAtEnd(t, b)
	err := b.CreateTaskHub(context.Background())
	if !errors.Is(err, ErrPartitionCountMismatch) || !strings.Contains(err.Error(), "taskhub.json") {
		t.Fatalf("CreateTaskHub = %v, want ErrPartitionCountMismatch naming taskhub.json", err)
	}
}

// Two Go workers split four partitions two and two, with both leases of a
// queue held by the worker that reads it; a stopped worker's partitions
// move to the other at once (released, not left to expire), and a third
// worker steals its share.
func TestTwoGoWorkersSplitBlobLeases(t *testing.T) {
	c := testClients(t)
	hub := uniqueHub("Two")
	w1 := newCreatedBackend(t, c, blobOpts(hub, "go-1"))
	w2 := newBackendFor(t, c, blobOpts(hub, "go-2"))
	startBackend(t, w1)
	stop2 := startBackend(t, w2)
	waitLong(t, "a 2/2 split", 20*time.Second, func() bool {
		return len(ownedQueues(w1)) == 2 && len(ownedQueues(w2)) == 2
	})
	noOverlap(t, w1, w2)
	for _, q := range ownedQueues(w2) {
		for _, dir := range []string{"intent", "ownership"} {
			got, state := getBlob(t, c, w1.names.LeasesContainer(), dir+"/"+q)
			var l blobLease
			if err := json.Unmarshal([]byte(got), &l); err != nil {
				t.Fatal(err)
			}
			if l.owner() != "go-2" || l.token() == "" || l.Epoch < 1 || state != lease.StateTypeLeased {
				t.Errorf("%s/%s = %s (%s)", dir, q, got, state)
			}
		}
	}

	stop2()
	waitLong(t, "go-1 to take over go-2's partitions", 10*time.Second, func() bool { return len(ownedQueues(w1)) == 4 })
	q := w1.names.ControlQueue(0)
	got, _ := getBlob(t, c, w1.names.LeasesContainer(), "intent/"+q)
	if !strings.Contains(got, `"Owner":"go-1"`) {
		t.Errorf("intent/%s = %s", q, got)
	}

	w3 := newBackendFor(t, c, blobOpts(hub, "go-3"))
	startBackend(t, w3)
	waitLong(t, "go-3 to steal a fair share", 20*time.Second, func() bool {
		noOverlap(t, w1, w3)
		return len(ownedQueues(w1)) == 2 && len(ownedQueues(w3)) == 2
	})
}

func noOverlap(t *testing.T, a, b *Backend) {
	t.Helper()
	for _, q := range a.names.ControlQueues() {
		if a.parts.owns(q) && b.parts.owns(q) {
			t.Fatalf("%s is read by %s and %s", q, a.opts.WorkerID, b.opts.WorkerID)
		}
	}
}

// A Go worker joining a hub where a .NET worker holds two of four
// partitions takes the other two and leaves the .NET leases alone; when
// the .NET worker dies its leases expire and the Go worker takes them.
func TestGoWorkerJoinsDotNetHubWithFairShare(t *testing.T) {
	c, hub, lc := dotNetHub(t, "Join")
	dn := newDotNetWorker(t, c, hub, "dotnet-1")
	dn.hold(lc+"-control-00", lc+"-control-01")
	dn.renew()
	b := newCreatedBackend(t, c, blobOpts(hub, "go-1"))
	startBackend(t, b)
	waitLong(t, "go-1 to take the two free partitions", 10*time.Second, func() bool { return len(ownedQueues(b)) == 2 })
	time.Sleep(2 * time.Second) // ten acquire rounds: no steal at a fair share
	if got := ownedQueues(b); len(got) != 2 || got[0] != lc+"-control-02" || got[1] != lc+"-control-03" {
		t.Fatalf("go-1 reads %v", got)
	}
	if dn.lost.Load() != 0 || dn.holds() != 2 {
		t.Fatalf("the .NET worker lost leases: lost %d, holds %d", dn.lost.Load(), dn.holds())
	}
	if got, _ := getBlob(t, c, lc+"-leases", "intent/"+lc+"-control-00"); !strings.Contains(got, `"Owner":"dotnet-1"`) {
		t.Fatalf("intent/control-00 = %s", got)
	}

	dn.stopRenewing() // the .NET worker dies; its 15 s leases expire
	waitLong(t, "go-1 to take the expired partitions", 25*time.Second, func() bool { return len(ownedQueues(b)) == 4 })
	got, _ := getBlob(t, c, lc+"-leases", "ownership/"+lc+"-control-01")
	if !strings.Contains(got, `"Owner":"go-1"`) || !strings.Contains(got, `"Epoch":2`) {
		t.Errorf("ownership/control-01 after expiry = %s", got)
	}
}

// A Go worker joining a hub where a .NET worker holds every partition
// steals intent leases one at a time up to its share, and reads a queue
// only once the .NET worker has given up its ownership lease.
func TestGoWorkerStealsFairShareFromDotNet(t *testing.T) {
	c, hub, lc := dotNetHub(t, "Steal")
	dn := newDotNetWorker(t, c, hub, "dotnet-1")
	for i := 0; i < 4; i++ {
		dn.hold(fmt.Sprintf("%s-control-%02d", lc, i))
	}
	dn.renew()
	defer dn.stopRenewing()
	b := newBackendFor(t, c, blobOpts(hub, "go-1"))
	deleteHubAtEnd(t, b)
	startBackend(t, b)
	waitLong(t, "go-1 to own its share", 20*time.Second, func() bool {
		for _, q := range ownedQueues(b) {
			dn.mu.Lock()
			_, dotnet := dn.tokens["ownership/"+q]
			dn.mu.Unlock()
			if dotnet {
				t.Fatalf("go-1 reads %s while the .NET worker holds its ownership lease", q)
			}
		}
		return len(ownedQueues(b)) == 2
	})
	time.Sleep(time.Second)
	if n := len(ownedQueues(b)); n != 2 || dn.holds() != 2 || dn.lost.Load() != 2 {
		t.Fatalf("go-1 owns %d, .NET holds %d and lost %d; want 2, 2, 2", n, dn.holds(), dn.lost.Load())
	}
	for _, q := range ownedQueues(b) {
		got, _ := getBlob(t, c, lc+"-leases", "intent/"+q)
		if !strings.Contains(got, `"Owner":"go-1"`) || !strings.Contains(got, `"Epoch":2`) {
			t.Errorf("stolen intent/%s = %s", q, got)
		}
	}
}

// On a blob lease hub the client writes base64 bodies, which a 1.x worker
// needs, and the worker reads them.
func TestBase64MessagesOnBlobLeaseHub(t *testing.T) {
	b := newBase64Backend(t, "B64")
	ctx := context.Background()
	client := durable.NewClient(b, nil)
	id := "b64-instance"
	if _, err := client.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	q := b.names.ControlQueue(PartitionIndex(id, 4))
	peek, err := b.queue(q).PeekMessages(ctx, &azqueue.PeekMessagesOptions{})
	if err != nil || len(peek.Messages) != 1 {
		t.Fatalf("peek %s: %v %v", q, peek.Messages, err)
	}
	raw := deref(peek.Messages[0].MessageText)
	dec, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || !strings.HasPrefix(string(dec), `{"$type":"DurableTask.AzureStorage.MessageData"`) {
		t.Fatalf("body is not base64 of MessageData JSON: %.80s (%v)", raw, err)
	}
	runWorker(t, b, helloRegistry(t))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := client.WaitForCompletion(wctx, id)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("status %+v, %v", st, err)
	}
}

// countRenewals counts container lease renewals of the app lease container.
type countRenewals struct {
	container string
	n         atomic.Int32
}

func (p *countRenewals) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	action := r.Header.Get("x-ms-lease-action")
	if v := r.Header["x-ms-lease-action"]; len(v) > 0 {
		action = v[0] // the SDK sets its x-ms headers without canonicalizing them
	}
	if action == "renew" && strings.Contains(r.URL.Path, "/"+p.container) && r.URL.Query().Get("restype") == "container" {
		p.n.Add(1)
	}
	return req.Next()
}

func TestAppLeaseID(t *testing.T) {
	// new Guid(BitConverter.GetBytes(Fnv1a(""))) resized to 16 bytes.
	if got := AppLeaseID(""); got != "811c9dc5-0000-0000-0000-000000000000" {
		t.Errorf("AppLeaseID(\"\") = %s", got)
	}
	if got, want := AppLeaseID("app-a"), fmt.Sprintf("%08x-0000-0000-0000-000000000000", fnv1a32("app-a")); got != want {
		t.Errorf("AppLeaseID(app-a) = %s, want %s", got, want)
	}
}

// The app lease: the first app takes the {hub}-applease container lease,
// records itself in {hub}-appleaseinfo and renews; a second worker of the
// same app shares it and its partitions; a worker of another app reads
// nothing until the info blob names it as the desired owner, then it
// changes the lease over and the first app's workers stop.
func TestAppLease(t *testing.T) {
	hub := uniqueHub("App")
	counter := &countRenewals{container: strings.ToLower(hub) + "-applease"}
	acct := testAccount(t)
	counted, err := NewClients(acct, ClientOptions{PerCall: []policy.Policy{counter}})
	if err != nil {
		t.Fatal(err)
	}
	c := testClients(t)
	appOpts := func(app, worker string) Options {
		o := blobOpts(hub, worker)
		o.UseAppLease, o.AppName = true, app
		o.AppLease = AppLeaseOptions{RenewInterval: 300 * time.Millisecond, AcquireInterval: 200 * time.Millisecond, LeaseInterval: 15 * time.Second}
		return o
	}
	a1 := newCreatedBackend(t, counted, appOpts("app-a", "a-1"))
	ctx := context.Background()
	startBackend(t, a1)
	waitLong(t, "a-1 to read every partition", 10*time.Second, func() bool { return len(ownedQueues(a1)) == 4 })
	idA, idB := AppLeaseID("app-a"), AppLeaseID("app-b")
	if _, state := getBlob(t, c, a1.names.AppLeaseContainer(), a1.names.AppLeaseInfoBlob()); state != lease.StateTypeAvailable {
		t.Errorf("info blob lease state %s", state)
	}
	props, err := c.Blob.ServiceClient().NewContainerClient(a1.names.AppLeaseContainer()).GetProperties(ctx, nil)
	if err != nil || *props.LeaseState != lease.StateTypeLeased {
		t.Fatalf("app lease container: %v %v", props.LeaseState, err)
	}
	if got, _ := getBlob(t, c, a1.names.AppLeaseContainer(), a1.names.AppLeaseInfoBlob()); got != `{"OwnerId":"`+idA+`","DesiredSwapId":null}` {
		t.Errorf("app lease info = %s", got)
	}
	waitLong(t, "two renewals of the app lease", 5*time.Second, func() bool { return counter.n.Load() >= 2 })

	a2 := newBackendFor(t, c, appOpts("app-a", "a-2"))
	startBackend(t, a2)
	waitLong(t, "the two workers of app-a to split", 20*time.Second, func() bool {
		return len(ownedQueues(a1)) == 2 && len(ownedQueues(a2)) == 2
	})

	b1 := newBackendFor(t, c, appOpts("app-b", "b-1"))
	startBackend(t, b1)
	time.Sleep(1500 * time.Millisecond)
	if got := ownedQueues(b1); len(got) != 0 {
		t.Fatalf("app-b reads %v while app-a holds the app lease", got)
	}
	// What app-b's ForceChangeAppLease would write.
	putBlob(t, c, a1.names.AppLeaseContainer(), a1.names.AppLeaseInfoBlob(), `{"OwnerId":"`+idA+`","DesiredSwapId":"`+idB+`"}`)
	waitLong(t, "app-b to take over", 20*time.Second, func() bool {
		noOverlap(t, a1, b1)
		noOverlap(t, a2, b1)
		return len(ownedQueues(b1)) == 4 && len(ownedQueues(a1)) == 0 && len(ownedQueues(a2)) == 0
	})
	if got, _ := getBlob(t, c, a1.names.AppLeaseContainer(), a1.names.AppLeaseInfoBlob()); got != `{"OwnerId":"`+idB+`","DesiredSwapId":null}` {
		t.Errorf("app lease info after the swap = %s", got)
	}
}

// Legacy blob leases: one lease per queue in default/, two workers split
// the queues and each reads only the queues whose lease it holds.
func TestLegacyBlobLeasesSplit(t *testing.T) {
	c := testClients(t)
	hub := uniqueHub("Leg")
	opts := func(w string) Options {
		o := blobOpts(hub, w)
		o.PartitionManagement = LegacyBlobLeases
		return o
	}
	w1 := newCreatedBackend(t, c, opts("go-1"))
	w2 := newBackendFor(t, c, opts("go-2"))
	startBackend(t, w1)
	startBackend(t, w2)
	waitLong(t, "a 2/2 split", 20*time.Second, func() bool {
		noOverlap(t, w1, w2)
		return len(ownedQueues(w1)) == 2 && len(ownedQueues(w2)) == 2
	})
	for _, w := range []*Backend{w1, w2} {
		for _, q := range ownedQueues(w) {
			got, state := getBlob(t, c, w.names.LeasesContainer(), "default/"+q)
			if !strings.Contains(got, `"Owner":"`+w.opts.WorkerID+`"`) || state != lease.StateTypeLeased {
				t.Errorf("default/%s = %s (%s)", q, got, state)
			}
		}
	}
	pager := c.Blob.NewListBlobsFlatPager(w1.names.LeasesContainer(), nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			if n := *it.Name; n != "taskhub.json" && !strings.HasPrefix(n, "default/") {
				t.Errorf("unexpected lease blob %s", n)
			}
		}
	}
}

// A worker restarted under the same id keeps the leases it still holds
// (renewing them with the token their content names) instead of waiting
// for them to expire.
func TestRestartedWorkerKeepsItsLeases(t *testing.T) {
	c, hub, lc := dotNetHub(t, "Re")
	before := newDotNetWorker(t, c, hub, "go-1") // what the crashed go-1 left behind
	before.hold(lc+"-control-00", lc+"-control-01")
	b := newBackendFor(t, c, blobOpts(hub, "go-1"))
	deleteHubAtEnd(t, b)
	start := time.Now()
	startBackend(t, b)
	waitLong(t, "go-1 to read every partition", 10*time.Second, func() bool { return len(ownedQueues(b)) == 4 })
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v: the leases were left to expire", d)
	}
	got, _ := getBlob(t, c, lc+"-leases", "ownership/"+lc+"-control-00")
	if !strings.Contains(got, `"Token":"`+before.tokens["ownership/"+lc+"-control-00"]+`"`) {
		t.Errorf("the kept lease was re-acquired instead: %s", got)
	}
}

// An event raised by a DurableTask.AzureStorage 1.x client arrives as the
// base64 of its MessageData JSON (the fixture, byte for byte); a waiting
// orchestration on a blob lease hub receives it.
func TestDotNetBase64EventIsProcessed(t *testing.T) {
	b := newBase64Backend(t, "Ev")
	ctx := context.Background()
	r := durable.NewRegistry()
	if err := r.AddOrchestrator("WaitApproval", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (map[string]any, error) {
		return durable.WaitForExternalEvent[map[string]any](ctx, "Approval").Await()
	})); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, r)
	client := durable.NewClient(b, r)
	if _, err := client.StartNew(ctx, "WaitApproval", nil, durable.WithInstanceID("abc")); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "the orchestration to run", 20*time.Second, func() bool {
		st, err := client.GetStatus(ctx, "abc")
		return err == nil && st.RuntimeStatus == durable.StatusRunning
	})
	fixture, err := os.ReadFile("testdata/spec_raise_event.json")
	if err != nil {
		t.Fatal(err)
	}
	body := base64.StdEncoding.EncodeToString(bytes.TrimSpace(fixture))
	if _, err := b.queue(b.names.ControlQueue(PartitionIndex("abc", 4))).EnqueueMessage(ctx, body, nil); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := client.WaitForCompletion(wctx, "abc")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || !strings.Contains(deref(st.Output), `Zoë \u003cadmin\u003e`) && !strings.Contains(deref(st.Output), `Zoë <admin>`) {
		t.Fatalf("status %+v, %v", st, err)
	}
}

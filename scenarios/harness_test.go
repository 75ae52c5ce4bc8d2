package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/testazurite"
)

// TestMain starts the package's own Azurite. The scenarios mostly wait on
// storage and timers, so unless -parallel is given more of them run at
// once than there are CPUs.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "6")
	}
	os.Exit(testazurite.Main(m))
}

// standardTimeout bounds a wait for an orchestration that should finish.
const standardTimeout = 30 * time.Second

var hubSeq atomic.Int64

// hostOptions configure a test host (the .NET suite's TestOrchestrationHost).
type hostOptions struct {
	// extendedSessions keeps instances' histories (and, where the engine
	// supports it, their orchestrator state) in memory between episodes.
	extendedSessions bool
	backend          func(*azstorage.Options)
	worker           func(*durable.WorkerOptions)
	noWorker         bool
}

// host is one task hub with a worker and a client on it.
type host struct {
	t      *testing.T
	hub    string
	be     *azstorage.Backend
	client *durable.Client
	reg    *durable.Registry
	env    *Env
	clis   *azstorage.Clients
	names  azstorage.Names
}

func logger(t *testing.T) *slog.Logger {
	if testing.Verbose() && os.Getenv("SCENARIO_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// clients returns storage clients for the package's Azurite.
func clients(t *testing.T) *azstorage.Clients {
	t.Helper()
	acct, err := azstorage.ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	c, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newBackend creates a fresh task hub (deleted when the test ends).
func newBackend(t *testing.T, o hostOptions) (*azstorage.Backend, *azstorage.Clients) {
	t.Helper()
	clis := clients(t)
	opts := azstorage.Options{
		TaskHub:            fmt.Sprintf("S%d%s", hubSeq.Add(1), time.Now().Format("150405")),
		PartitionCount:     1,
		WorkerID:           "scenario-worker",
		MaxPollingInterval: 250 * time.Millisecond,
		Logger:             logger(t),
	}
	if !o.extendedSessions {
		opts.HistoryCacheSize = -1
	}
	if o.backend != nil {
		o.backend(&opts)
	}
	be, err := azstorage.New(clis, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := be.CreateTaskHub(ctx); err != nil {
		t.Fatalf("create task hub: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = be.DeleteTaskHub(ctx)
	})
	return be, clis
}

// newHost starts a task hub with the suite's functions, a worker running
// until the test ends and a client.
func newHost(t *testing.T, o hostOptions) *host {
	t.Helper()
	be, clis := newBackend(t, o)
	h := &host{t: t, be: be, clis: clis, names: be.Names(), hub: be.Names().TaskHub(), env: NewEnv()}
	h.env.RowTable = clis.Table.NewClient(h.hub + "TestTable")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.env.RowTable.CreateTable(ctx, nil); err != nil {
		t.Fatalf("create row table: %v", err)
	}
	t.Cleanup(func() { _, _ = h.env.RowTable.Delete(context.Background(), nil) })
	h.reg = durable.NewRegistry()
	if err := Register(h.reg, h.env); err != nil {
		t.Fatal(err)
	}
	h.client = durable.NewClient(be, h.reg)
	if !o.noWorker {
		wo := durable.WorkerOptions{Logger: logger(t), ExtendedSessions: o.extendedSessions}
		if o.worker != nil {
			o.worker(&wo)
		}
		h.runWorker(wo)
	}
	return h
}

// runWorker runs a worker until the test ends.
func (h *host) runWorker(wo durable.WorkerOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(h.be, h.reg, wo)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("worker: %v", err)
		}
	})
}

// bothSessionModes runs a scenario with extended sessions on and off (the
// .NET suite's enableExtendedSessions data rows), in parallel.
func bothSessionModes(t *testing.T, f func(t *testing.T, extended bool)) {
	bothWays(t, "extendedSessions", f)
}

// bothWays runs a scenario with a data row, name, true and false: in
// parallel subtests name=true and name=false of the parallel test t.
func bothWays(t *testing.T, name string, f func(t *testing.T, on bool)) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(name+"="+strconv.FormatBool(on), func(t *testing.T) {
			t.Parallel()
			f(t, on)
		})
	}
}

// bothSessionModesAnd runs a scenario with extended sessions on and off
// and, in each mode, a second data row, flag, true and false: in parallel
// subtests extendedSessions=…/flag=….
func bothSessionModesAnd(t *testing.T, flag string, f func(t *testing.T, extended, on bool)) {
	t.Parallel()
	for _, ext := range []bool{true, false} {
		for _, on := range []bool{true, false} {
			t.Run("extendedSessions="+strconv.FormatBool(ext)+"/"+flag+"="+strconv.FormatBool(on), func(t *testing.T) {
				t.Parallel()
				f(t, ext, on)
			})
		}
	}
}

// start starts an orchestration and returns its id.
func (h *host) start(name string, input any, opts ...durable.StartOption) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := h.client.StartNew(ctx, name, input, opts...)
	if err != nil {
		h.t.Fatalf("start %s: %v", name, err)
	}
	return id
}

// wait waits until the instance finishes (or fails the test).
func (h *host) wait(id string, within time.Duration) *durable.InstanceStatus {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	st, err := h.client.WaitForCompletion(ctx, id)
	if err != nil {
		last := "no status"
		if st != nil {
			last = st.RuntimeStatus.String()
		}
		h.t.Fatalf("wait for %s: %v (last: %s)", id, err, last)
	}
	return st
}

// waitStatus polls until the instance is in one of the statuses.
func (h *host) waitStatus(id string, within time.Duration, want ...durable.RuntimeStatus) *durable.InstanceStatus {
	h.t.Helper()
	deadline := time.Now().Add(within)
	var last *durable.InstanceStatus
	for {
		st, err := h.client.GetStatus(context.Background(), id)
		if err == nil {
			last = st
			for _, w := range want {
				if st.RuntimeStatus == w {
					return st
				}
			}
		} else if !errors.Is(err, durable.ErrInstanceNotFound) {
			h.t.Fatalf("status of %s: %v", id, err)
		}
		if time.Now().After(deadline) {
			got := "not found"
			if last != nil {
				got = last.RuntimeStatus.String()
			}
			h.t.Fatalf("%s did not reach %v within %v (it is %s)", id, want, within, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForStartup waits until the instance runs (.NET WaitForStartupAsync).
func (h *host) waitForStartup(id string) *durable.InstanceStatus {
	h.t.Helper()
	return h.waitStatus(id, 30*time.Second, durable.StatusRunning, durable.StatusCompleted, durable.StatusFailed, durable.StatusTerminated)
}

// status reads an instance's status; nil when it does not exist.
func (h *host) status(id string) *durable.InstanceStatus {
	h.t.Helper()
	st, err := h.client.GetStatus(context.Background(), id)
	if errors.Is(err, durable.ErrInstanceNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("status of %s: %v", id, err)
	}
	return st
}

// history reads an instance's history rows (empty when purged).
func (h *host) history(id string) int {
	h.t.Helper()
	evs, err := h.be.GetHistory(context.Background(), id)
	if err != nil && !errors.Is(err, durable.ErrInstanceNotFound) {
		h.t.Fatalf("history of %s: %v", id, err)
	}
	return len(evs)
}

// raise raises an event.
func (h *host) raise(id, name string, data any) {
	h.t.Helper()
	if err := h.client.RaiseEvent(context.Background(), id, name, data); err != nil {
		h.t.Fatalf("raise %s on %s: %v", name, id, err)
	}
}

// terminate terminates an instance.
func (h *host) terminate(id, reason string) {
	h.t.Helper()
	if err := h.client.Terminate(context.Background(), id, reason); err != nil {
		h.t.Fatalf("terminate %s: %v", id, err)
	}
}

// endCounter checks, a moment after what was sent to a Counter
// instance, that it still runs, then ends it and returns its status, which
// must be Completed.
func (h *host) endCounter(id, what string) *durable.InstanceStatus {
	h.t.Helper()
	time.Sleep(2 * time.Second)
	if st := h.status(id); st.RuntimeStatus != durable.StatusRunning && st.RuntimeStatus != durable.StatusContinuedAsNew {
		h.t.Fatalf("after %s the counter is %s", what, st.RuntimeStatus)
	}
	h.raise(id, "operation", "end")
	st := h.wait(id, 10*time.Second)
	expectStatus(h.t, st, durable.StatusCompleted)
	return st
}

// purge purges one instance.
func (h *host) purge(id string) error {
	return h.client.Purge(context.Background(), id)
}

// expect fails the test when the status is not want.
func expectStatus(t *testing.T, st *durable.InstanceStatus, want durable.RuntimeStatus) {
	t.Helper()
	if st == nil {
		t.Fatalf("no status; want %s", want)
	}
	if st.RuntimeStatus != want {
		out := "<nil>"
		if st.Output != nil {
			out = *st.Output
			if len(out) > 500 {
				out = out[:500] + "…"
			}
		}
		t.Fatalf("%s is %s (output %s); want %s", st.InstanceID, st.RuntimeStatus, out, want)
	}
}

// jsonOf decodes stored JSON text into a T (fails the test on error).
func jsonOf[T any](t *testing.T, what string, s *string) T {
	t.Helper()
	var v T
	if s == nil {
		t.Fatalf("%s is null", what)
	}
	if err := json.Unmarshal([]byte(*s), &v); err != nil {
		t.Fatalf("%s %.200q does not decode: %v", what, *s, err)
	}
	return v
}

// text returns *s or "<nil>".
func text(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// randomPayload is the .NET suite's GenerateMediumRandomStringPayload:
// n characters from a set that is 1 byte each in UTF-8 (wide) or 3 bytes
// each in UTF-8 (thai).
func randomPayload(n int, thai bool) string {
	chars := []rune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 {}/<>.")
	if thai {
		chars = []rune("มันสนุกพี่บุ๋มมันโจ๊ะ")
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(chars[rand.IntN(len(chars))])
	}
	return b.String()
}

// mediumPayload is 128 Ki single-byte characters.
func mediumPayload() string { return randomPayload(128*1024, false) }

// blobCount counts the large-message blobs whose names start with prefix
// (the .NET suite's GetBlobCount on {hub}-largemessages).
func (h *host) blobCount(prefix string) int {
	h.t.Helper()
	c := h.clis.Blob.ServiceClient().NewContainerClient(h.names.LargeMessagesContainer())
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	n := 0
	for pager.More() {
		p, err := pager.NextPage(context.Background())
		if err != nil {
			var notFound interface{ StatusCode() int }
			if errors.As(err, &notFound) {
				return 0
			}
			if strings.Contains(err.Error(), "ContainerNotFound") {
				return 0
			}
			h.t.Fatalf("list blobs %s: %v", prefix, err)
		}
		n += len(p.Segment.BlobItems)
	}
	return n
}

// instancesTable is the task hub's Instances table.
func (h *host) instancesTable() *aztables.Client {
	return h.clis.Table.NewClient(h.names.InstancesTable())
}

// instanceRowBody is an instance's Instances row with cols, as JSON.
func instanceRowBody(id string, cols map[string]any) []byte {
	row := map[string]any{"PartitionKey": azstorage.EscapePartitionKey(id), "RowKey": ""}
	maps.Copy(row, cols)
	body, _ := json.Marshal(row)
	return body
}

// instanceRow reads the raw Instances row of an instance (nil if none).
func (h *host) instanceRow(id string) map[string]any {
	h.t.Helper()
	resp, err := h.instancesTable().GetEntity(context.Background(), azstorage.EscapePartitionKey(id), "", nil)
	if err != nil {
		if strings.Contains(err.Error(), "ResourceNotFound") || strings.Contains(err.Error(), "404") {
			return nil
		}
		h.t.Fatalf("read Instances row of %s: %v", id, err)
	}
	var row map[string]any
	if err := json.Unmarshal(resp.Value, &row); err != nil {
		h.t.Fatal(err)
	}
	return row
}

// mergeInstanceRow merges columns into an instance's row (ETag *).
func (h *host) mergeInstanceRow(id string, cols map[string]any) {
	h.t.Helper()
	if _, err := h.instancesTable().UpsertEntity(context.Background(), instanceRowBody(id, cols), &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeMerge}); err != nil {
		h.t.Fatalf("merge Instances row of %s: %v", id, err)
	}
}

// deleteInstanceRow deletes an instance's row.
func (h *host) deleteInstanceRow(id string) {
	h.t.Helper()
	if _, err := h.instancesTable().DeleteEntity(context.Background(), azstorage.EscapePartitionKey(id), "", nil); err != nil {
		h.t.Fatalf("delete Instances row of %s: %v", id, err)
	}
}

type azstorageOptions = azstorage.Options

// historyEvents reads an instance's history.
func (h *host) historyEvents(id string) []*history.Event {
	h.t.Helper()
	evs, err := h.be.GetHistory(context.Background(), id)
	if err != nil {
		h.t.Fatalf("history of %s: %v", id, err)
	}
	return evs
}

// insertInstanceRow inserts an Instances row (it must not exist).
func (h *host) insertInstanceRow(id string, cols map[string]any) {
	h.t.Helper()
	if _, err := h.instancesTable().AddEntity(context.Background(), instanceRowBody(id, cols), nil); err != nil {
		h.t.Fatalf("insert Instances row of %s: %v", id, err)
	}
}

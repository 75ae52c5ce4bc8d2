package azstorage

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/testazurite"
)

// slowInstances delays every write to the Instances table.
type slowInstances struct{ delay time.Duration }

func (s slowInstances) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "Instances") {
		time.Sleep(s.delay)
	}
	return req.Next()
}

// The Instances row is off the critical path: with every row write taking
// 400 ms, ten sequential activity steps take far less than ten row
// writes, and the row still ends Completed with the output.
func TestSlowInstancesRowDoesNotSlowSteps(t *testing.T) {
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	clients, err := NewClients(acct, ClientOptions{PerCall: []policy.Policy{slowInstances{400 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t)
	b.c = clients
	r := durable.NewRegistry()
	var marks stepClockT
	if err := r.AddActivity("Step", durable.Activity(func(ctx context.Context, i int) (int, error) {
		marks.mark()
		return i + 1, nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := r.AddOrchestrator("Seq", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		v := 0
		for range n {
			var err error
			if v, err = durable.CallActivity[int](ctx, "Step", v).Await(); err != nil {
				return 0, err
			}
		}
		return v, nil
	})); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.StartNew(ctx, "Seq", 10, durable.WithInstanceID("seq")); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, "seq")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != "10" {
		t.Fatalf("%+v %v", st, err)
	}
	marks.mu.Lock()
	defer marks.mu.Unlock()
	if took := marks.last.Sub(marks.first); took > 2*time.Second {
		t.Fatalf("10 steps took %v with 400 ms row writes: the row is on the critical path", took)
	}
	t.Logf("10 steps in %v", marks.last.Sub(marks.first))
}

type stepClockT struct {
	mu          sync.Mutex
	first, last time.Time
}

func (s *stepClockT) mark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.last = time.Now()
}

// A row left behind (its writer died after the history was written) is
// rewritten from the history when a message of the instance is delivered
// again.
func TestRowRepairedFromHistoryOnRedelivery(t *testing.T) {
	b := newTestBackend(t)
	r := waitRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.StartNew(ctx, "Wait", nil, durable.WithInstanceID("w")); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := c.GetStatus(ctx, "w")
		if err != nil {
			t.Fatal(err)
		}
		if st.RuntimeStatus == durable.StatusRunning {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The row as a worker that died before writing it would leave it.
	if err := b.mergeInstanceRow(ctx, "w", map[string]any{"PartitionKey": "w", "RowKey": "", "RuntimeStatus": "Pending"}, "test"); err != nil {
		t.Fatal(err)
	}
	h, err := b.loadHistory(ctx, "w", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.repairRow(ctx, "w", h, []*queueMessage{{dequeueCount: 1}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.GetStatus(ctx, "w"); st.RuntimeStatus != durable.StatusPending {
		t.Fatalf("a first delivery must not rewrite the row: %s", st.RuntimeStatus)
	}
	if err := b.repairRow(ctx, "w", h, []*queueMessage{{dequeueCount: 2}}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetStatus(ctx, "w")
	if err != nil || st.RuntimeStatus != durable.StatusRunning || st.Name != "Wait" {
		t.Fatalf("after repair: %+v %v", st, err)
	}
}

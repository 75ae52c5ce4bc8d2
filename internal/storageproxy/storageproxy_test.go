package storageproxy

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/internal/testazurite"
)

func TestMain(m *testing.M) { os.Exit(testazurite.Main(m)) }

func TestOpNames(t *testing.T) {
	cases := []struct{ service, method, url, want string }{
		{"queue", "POST", "/devstoreaccount1/q-control-00/messages", "queue.enqueue"},
		{"queue", "GET", "/devstoreaccount1/q/messages?numofmessages=32", "queue.dequeue"},
		{"queue", "GET", "/devstoreaccount1/q/messages?peekonly=true", "queue.peek"},
		{"queue", "PUT", "/devstoreaccount1/q/messages/abc?popreceipt=x", "queue.update"},
		{"queue", "DELETE", "/devstoreaccount1/q/messages/abc?popreceipt=x", "queue.delete"},
		{"queue", "PUT", "/devstoreaccount1/q", "queue.create"},
		{"table", "POST", "/devstoreaccount1/$batch", "table.batch"},
		{"table", "POST", "/devstoreaccount1/Tables", "table.create"},
		{"table", "POST", "/devstoreaccount1/HubInstances", "table.insert"},
		{"table", "GET", "/devstoreaccount1/HubInstances(PartitionKey='a',RowKey='')", "table.get"},
		{"table", "GET", "/devstoreaccount1/HubHistory()?$filter=x", "table.query"},
		{"table", "MERGE", "/devstoreaccount1/HubInstances(PartitionKey='a',RowKey='')", "table.merge"},
		{"table", "PUT", "/devstoreaccount1/HubInstances(PartitionKey='a',RowKey='')", "table.update"},
		{"blob", "PUT", "/devstoreaccount1/c/b", "blob.put"},
		{"blob", "GET", "/devstoreaccount1/c/b", "blob.get"},
		{"blob", "PUT", "/devstoreaccount1/c?restype=container", "blob.other"},
		{"blob", "PUT", "/devstoreaccount1/c/b?comp=lease", "blob.other"},
	}
	for _, c := range cases {
		u, _ := url.Parse(c.url)
		if got := Op(c.service, c.method, u); got != c.want {
			t.Errorf("Op(%s %s %s) = %q, want %q", c.service, c.method, c.url, got, c.want)
		}
	}
	if !matches("table.batch", "table") || !matches("table.batch", "table.batch") || matches("table.batch", "tab") || matches("queue.enqueue", "table") {
		t.Error("matches does not honour the Only prefix rule")
	}
}

// queueThrough returns a queue client through p with one try per call and a
// short try timeout, so each fault is seen as it is.
func queueThrough(t *testing.T, p *Proxy, name string) *azqueue.QueueClient {
	t.Helper()
	var endpoint string
	for _, part := range strings.Split(p.ConnectionString(), ";") {
		if k, v, ok := strings.Cut(part, "="); ok && k == "QueueEndpoint" {
			endpoint = v
		}
	}
	cred, err := azqueue.NewSharedKeyCredential("devstoreaccount1", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := azqueue.NewServiceClientWithSharedKeyCredential(endpoint+"/", cred, &azqueue.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: -1, TryTimeout: time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	q := svc.NewQueueClient(name)
	if _, err := q.Create(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return q
}

func count(t *testing.T, q *azqueue.QueueClient) int {
	t.Helper()
	resp, err := q.PeekMessages(context.Background(), &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(32))})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Messages)
}

// Each fault kind fails the call as described, and only the Busy one
// leaves nothing applied.
func TestFaultKinds(t *testing.T) {
	p, err := Start(testazurite.Shared(t).ConnectionString(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i, f := range AllFaults {
		t.Run(f.String(), func(t *testing.T) {
			q := queueThrough(t, p, "fault"+string(rune('a'+i)))
			p.Set(Config{Rate: 1, Faults: []Fault{f}, Only: "queue.enqueue"})
			_, err := q.EnqueueMessage(context.Background(), "hello", nil)
			p.Set(Config{})
			if err == nil {
				t.Fatalf("%v: enqueue succeeded", f)
			}
			var re *azcore.ResponseError
			switch f {
			case Busy:
				if !errors.As(err, &re) || re.StatusCode != 503 || re.ErrorCode != "ServerBusy" {
					t.Fatalf("busy: %v", err)
				}
			case AfterApply:
				if !errors.As(err, &re) || re.StatusCode != 500 {
					t.Fatalf("500-after-apply: %v", err)
				}
			default:
				if errors.As(err, &re) {
					t.Fatalf("%v: got a response %v, want a transport error", f, err)
				}
			}
			want := 1
			if f == Busy {
				want = 0
			}
			if n := count(t, q); n != want {
				t.Fatalf("%v: %d messages in the queue, want %d", f, n, want)
			}
		})
	}
	st := p.Stats()
	for _, f := range AllFaults {
		if st.Faults["queue.enqueue"][f] != 1 {
			t.Errorf("stats: %v injected %d times on enqueue, want 1", f, st.Faults["queue.enqueue"][f])
		}
	}
	if st.Faults["queue.create"] != nil || st.Requests["queue.peek"] != len(AllFaults) {
		t.Errorf("stats: %+v", st)
	}
}

// Latency is added to every request.
func TestLatency(t *testing.T) {
	p, err := Start(testazurite.Shared(t).ConnectionString(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q := queueThrough(t, p, "latency")
	p.Set(Config{Latency: 150 * time.Millisecond, Jitter: 20 * time.Millisecond})
	start := time.Now()
	if _, err := q.EnqueueMessage(context.Background(), "x", nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 130*time.Millisecond {
		t.Fatalf("enqueue took %v with 150±20 ms added", d)
	}
}

// Observe sees every request with its body before it is forwarded.
func TestObserveSeesEachRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	p, err := Start(testazurite.Shared(t).ConnectionString(), Config{Observe: func(r *http.Request, body []byte) {
		mu.Lock()
		seen = append(seen, Op("queue", r.Method, r.URL)+" "+string(body))
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q := queueThrough(t, p, "observed")
	if _, err := q.EnqueueMessage(context.Background(), "watched", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "queue.create " || !strings.HasPrefix(seen[1], "queue.enqueue ") || !strings.Contains(seen[1], "watched") {
		t.Fatalf("observed %q", seen)
	}
}

// A Late fault fails the call and applies it afterwards.
func TestLateFaultAppliesAfterTheClientGaveUp(t *testing.T) {
	p, err := Start(testazurite.Shared(t).ConnectionString(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q := queueThrough(t, p, "late")
	p.Set(Config{Rate: 1, Faults: []Fault{Late}, Only: "queue.enqueue"})
	if _, err := q.EnqueueMessage(context.Background(), "late", nil); err == nil {
		t.Fatal("a late enqueue succeeded")
	}
	p.Set(Config{})
	if n := count(t, q); n != 0 {
		t.Fatalf("%d messages right after the failure, want 0 (not applied yet)", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for count(t, q) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the late enqueue was never applied")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

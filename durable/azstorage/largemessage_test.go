package azstorage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

// A start whose message is over 45 KiB goes through a gzip blob, the
// ExecutionStarted history row keeps its 200 KB input in a blob column,
// and the whole thing still runs and reads back.
func TestLargePayloadsGoThroughBlobs(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	_ = r.AddActivity("Len", durable.Activity(func(ctx context.Context, s string) (int, error) { return len(s), nil }))
	_ = r.AddOrchestrator("Big", durable.Orchestrator(func(ctx *durable.OrchestrationContext, s string) (string, error) {
		n, err := durable.CallActivity[int](ctx, "Len", s).Await()
		if err != nil {
			return "", err
		}
		return strings.Repeat("y", n), nil
	}))
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	big := strings.Repeat("x", 200_000)
	id, err := c.StartNew(ctx, "Big", big, durable.WithInstanceID("big-1"))
	if err != nil {
		t.Fatal(err)
	}
	queue, _ := b.controlQueue(id)
	peek, err := b.queue(queue).PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(1))})
	if err != nil || len(peek.Messages) != 1 {
		t.Fatal(err)
	}
	text := *peek.Messages[0].MessageText
	if len(text) > 1000 || !strings.Contains(text, `"TaskMessage":null,"CompressedBlobName":"big-1/message-`) || !strings.Contains(text, `-ExecutionStarted.json.gz"`) {
		t.Fatalf("wrapper = %s", text)
	}
	pending := rawRow(t, b, b.names.InstancesTable(), id, "")
	if in, _ := pending["Input"].(string); !strings.HasPrefix(in, "http://127.0.0.1:") || !strings.Contains(in, "-largemessages/big-1/message-") {
		t.Fatalf("the Pending row's Input must point at the message blob, got %.80q", in)
	}
	if st, err := c.GetStatus(ctx, id); err != nil || len(history.Deref(st.Input)) != 200_002 {
		t.Fatalf("status input not dereferenced: %v", err)
	}
	runWorker(t, b, r)
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted || len(history.Deref(st.Output)) != 200_002 {
		t.Fatalf("status %v, output length %d", st.RuntimeStatus, len(history.Deref(st.Output)))
	}
	row := rawRow(t, b, b.names.HistoryTable(), id, "0000000000000001")
	blob, _ := row["InputBlobName"].(string)
	if row["Input"] != "" || !strings.HasPrefix(blob, "big-1/history-0000000000000001-ExecutionStarted-") || !strings.HasSuffix(blob, "-Input.json.gz") {
		t.Fatalf("ExecutionStarted row: Input %.40v, InputBlobName %q", row["Input"], blob)
	}
	h, err := b.GetHistory(ctx, id)
	if err != nil || len(history.Deref(h[1].Input)) != 200_002 {
		t.Fatalf("history input not restored: %v", err)
	}
}

// Blob URLs escape their segments as DurableTask's GetBlobUrl does.
func TestBlobURLEscaping(t *testing.T) {
	acct, _ := ParseConnectionString("S", "UseDevelopmentStorage=true")
	names, _ := NewNames("EscHub", 4)
	b := &Backend{c: &Clients{Account: acct}, names: names}
	for name, want := range map[string]string{"blob.bin": "blob.bin", "@#$%!": "%40%23%24%25%21", "foo/bar/b@z.tar.gz": "foo/bar/b%40z.tar.gz"} {
		if got := b.blobURL(name); got != "http://127.0.0.1:10000/devstoreaccount1/eschub-largemessages/"+want {
			t.Errorf("blobURL(%q) = %s", name, got)
		}
	}
}

package azstorage

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

// countBlobs lists the large-message container with the plain blob SDK.
func countBlobs(t *testing.T, b *Backend, prefix string) []string {
	t.Helper()
	cc := b.c.Blob.ServiceClient().NewContainerClient(b.names.LargeMessagesContainer())
	p := cc.NewListBlobsFlatPager(&listOpts{Prefix: &prefix})
	var names []string
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			names = append(names, *it.Name)
		}
	}
	return names
}

// One episode that writes 60 history rows of almost 30,000 three-byte
// characters each (5 MB as UTF-8, more than a table transaction takes)
// is split into batches by size, and the orchestration completes.
func TestLargeNonASCIIEpisodeIsSplitBySize(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	const n = 60
	text := strings.Repeat("漢", 28000)
	if err := r.AddOrchestrator("Broadcast", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		for i := 0; i < n; i++ {
			if err := ctx.SendEvent("nobody-"+string(rune('a'+i%26)), "Big", text); err != nil {
				return 0, err
			}
		}
		return n, nil
	})); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, r)
	c := durable.NewClient(b, r, b.opts.TaskHub)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := "broadcast"
	if _, err := c.StartNew(ctx, "Broadcast", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("status %v output %s", st.RuntimeStatus, history.Deref(st.Output))
	}
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	want, _ := json.Marshal(text)
	for _, row := range rows {
		if row["EventType"] == "EventSent" {
			sent++
			if row["Input"] != string(want) {
				t.Fatalf("EventSent row %v holds %d bytes, want the full text", row["RowKey"], len(row["Input"].(string)))
			}
		}
		if row["RowKey"] == "sentinel" && row["IsCheckpointComplete"] != true {
			t.Fatalf("sentinel = %v", row)
		}
	}
	if sent != n {
		t.Fatalf("%d EventSent rows, want %d", sent, n)
	}
}

// estimatedRowBytes counts at least DurableTask's estimate: 1 KB a row
// plus the UTF-16 bytes of the variable-size columns.
func TestEstimatedRowBytes(t *testing.T) {
	row := map[string]any{"PartitionKey": "p", "RowKey": "0", "Result": strings.Repeat("a", 1000), "Name": "x", "Input": ""}
	if got := estimatedRowBytes(row); got != 1024+2002 {
		t.Errorf("ASCII row = %d, want %d", got, 1024+2002)
	}
	row["Result"] = strings.Repeat("漢", 1000) // 3000 bytes of UTF-8
	if got := estimatedRowBytes(row); got < 1024+3000 {
		t.Errorf("non-ASCII row = %d, want at least its encoded size", got)
	}
}

type bigState struct {
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

// 100 operations on an entity whose state is 40 KB (stored in a blob)
// leave a bounded number of blobs: each continue-as-new deletes the
// blobs of the execution it replaced, and the Instances row points at
// the history row's blob instead of a copy of its own.
func TestEntityWithLargeStateLeavesBoundedBlobs(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	if err := r.AddEntity("Big", durable.EntityOperations(map[string]func(*durable.EntityContext, bigState, json.RawMessage) (bigState, any, error){
		"add": func(_ *durable.EntityContext, s bigState, _ json.RawMessage) (bigState, any, error) {
			s.N++
			s.Pad = strings.Repeat("x", 40*1024)
			return s, nil, nil
		},
	})); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, r)
	c := durable.NewClient(b, r, b.opts.TaskHub)
	ctx := context.Background()
	id := durable.NewEntityID("Big", "one")
	const ops = 100
	for i := 1; i <= ops; i++ {
		if err := c.SignalEntity(ctx, id, "add", nil); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			md, err := c.GetEntity(ctx, id)
			if err == nil && md.State != nil {
				var s bigState
				if err := json.Unmarshal([]byte(*md.State), &s); err != nil {
					t.Fatal(err)
				}
				if s.N == i {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("operation %d did not run: %v", i, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	blobs := countBlobs(t, b, id.String()+"/")
	if len(blobs) > 3 {
		t.Fatalf("%d blobs after %d operations, want at most 3: %v", len(blobs), ops, blobs[:min(len(blobs), 6)])
	}
	// The Instances row's Input is the URL of the history row's blob.
	row := rawRow(t, b, b.names.InstancesTable(), id.String(), "")
	hist := rawRow(t, b, b.names.HistoryTable(), id.String(), "0000000000000001")
	name, _ := hist["InputBlobName"].(string)
	if name == "" || row["Input"] != b.blobURL(name) {
		t.Fatalf("Instances Input = %v, history InputBlobName = %q", row["Input"], name)
	}
}

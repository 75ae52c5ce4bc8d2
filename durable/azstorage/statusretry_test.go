package azstorage

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/godurable/functions/internal/testazurite"
)

// hookPolicy runs a function before requests it selects.
type hookPolicy struct {
	match func(*http.Request) bool
	fired atomic.Bool
	do    func()
}

func (p *hookPolicy) Do(req *policy.Request) (*http.Response, error) {
	if p.match(req.Raw()) && p.fired.CompareAndSwap(false, true) {
		p.do()
	}
	return req.Next()
}

// A status read whose Input blob is deleted between reading the row and
// downloading the blob (the instance continued as new meanwhile) reads
// the row again instead of failing with BlobNotFound.
func TestStatusReadRetriesWhenItsBlobVanished(t *testing.T) {
	plain := newTestBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := "moving-on"
	name := EscapePartitionKey(id) + "/history-0000000000000001-ExecutionStarted-00000001-Input.json.gz"
	if err := plain.uploadCompressed(ctx, name, []byte(`"old input"`)); err != nil {
		t.Fatal(err)
	}
	row := map[string]any{"PartitionKey": EscapePartitionKey(id), "RowKey": "", "Name": "X", "RuntimeStatus": "Running",
		"ExecutionId": "e1", "Input": plain.blobURL(name)}
	if err := plain.mergeInstanceRow(ctx, id, row, "test"); err != nil {
		t.Fatal(err)
	}

	hook := &hookPolicy{match: func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "ExecutionStarted-00000001-Input.json.gz")
	}}
	hook.do = func() { // the instance moves on between row read and download
		if _, err := plain.c.Blob.DeleteBlob(ctx, plain.names.LargeMessagesContainer(), name, nil); err != nil {
			t.Error(err)
		}
		next := map[string]any{"PartitionKey": EscapePartitionKey(id), "RowKey": "", "ExecutionId": "e2", "Input": `"new input"`}
		if err := plain.mergeInstanceRow(ctx, id, next, "test"); err != nil {
			t.Error(err)
		}
	}
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	clients, err := NewClients(acct, ClientOptions{PerCall: []policy.Policy{hook}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(clients, plain.opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.GetInstance(ctx, id, true)
	if err != nil {
		t.Fatalf("status read: %v", err)
	}
	if !hook.fired.Load() || st.Input == nil || *st.Input != `"new input"` || st.ExecutionID != "e2" {
		t.Fatalf("fired %v, state %+v", hook.fired.Load(), st)
	}
}

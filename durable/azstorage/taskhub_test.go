package azstorage

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// DeleteTaskHub leaves nothing of the hub behind: besides the tables,
// control and work-item queues and large-message container, the poison
// queue and the blob-lease and app-lease containers that DurableTask (or
// a poisoned message) may have created.
func TestDeleteTaskHubRemovesEveryResource(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	lc := strings.ToLower(b.opts.TaskHub)
	containers := []string{lc + "-largemessages", lc + "-leases", lc + "-applease"}
	for _, c := range containers {
		if _, err := b.c.Blob.CreateContainer(ctx, c, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			t.Fatalf("create %s: %v", c, err)
		}
	}
	if _, err := b.c.Queue.CreateQueue(ctx, lc+"-poison", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteTaskHub(ctx); err != nil {
		t.Fatal(err)
	}
	queues, tables := listNames(t, b)
	if len(queues) != 0 || len(tables) != 0 {
		t.Errorf("left behind: queues %v, tables %v", queues, tables)
	}
	for _, c := range containers {
		_, err := b.c.Blob.ServiceClient().NewContainerClient(c).GetProperties(ctx, nil)
		if !bloberror.HasCode(err, bloberror.ContainerNotFound) && !bloberror.HasCode(err, bloberror.ContainerBeingDeleted) {
			t.Errorf("container %s still exists: %v", c, err)
		}
	}
}

package azstorage_test

import (
	"fmt"

	"github.com/godurable/functions/durable/azstorage"
)

// Options for a worker that joins a task hub of Durable Functions v2 apps:
// blob leases in {hub}-leases, base64 queue messages (which v2 workers need),
// and no app lease, so this app shares the hub's partitions with the .NET
// app instead of waiting for its app lease. CreateTaskHub and Start refuse
// the hub (ErrPartitionSchemeMismatch) if it is managed through the
// Partitions table instead.
func ExampleOptions_blobLeases() {
	opts := azstorage.Options{
		TaskHub:             "OrdersHub",
		PartitionManagement: azstorage.BlobLeases,
		Base64Messages:      true,
		UseAppLease:         false,
	}
	names, _ := azstorage.NewNames(opts.TaskHub, 4)
	fmt.Println(names.LeasesContainer(), names.AppLeaseContainer())
	fmt.Println(azstorage.AppLeaseID("my-site"))
	// Output:
	// ordershub-leases ordershub-applease
	// 3b618469-0000-0000-0000-000000000000
}

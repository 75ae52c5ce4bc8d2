// Package azstorage is the Azure Storage backend of package durable: task
// hubs laid out exactly as the Durable Task Framework's Azure Storage
// provider (DurableTask.AzureStorage) lays them out, so a task hub can be
// shared with .NET Durable Functions apps and inspected with their tools.
//
// A task hub is control queues {hub}-control-00…NN (the partitions,
// leased through the {Hub}Partitions table, or with PartitionManagement
// BlobLeases through blob leases in {hub}-leases as Durable Functions v2
// keeps them), the {hub}-workitems queue for
// activities, the {Hub}History and {Hub}Instances tables, and the
// {hub}-largemessages blob container for payloads too large for a queue
// message or a table column.
//
// Most apps never use this package directly: package funcapp builds the
// backend from host.json. A program of its own connects like this:
//
//	acct, err := azstorage.ParseConnectionString("AzureWebJobsStorage", os.Getenv("AzureWebJobsStorage"))
//	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
//	be, err := azstorage.New(clients, azstorage.Options{TaskHub: "MyHub"})
//	err = be.CreateTaskHub(ctx)
//	worker := durable.NewWorker(be, registry, durable.WorkerOptions{})
//	err = worker.Run(ctx)
package azstorage

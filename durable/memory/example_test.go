package memory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/memory"
)

// The engine on the in-memory backend: a worker and a client in one
// process, no storage. Not durable: everything is gone when it ends.
func Example() {
	reg := durable.NewRegistry()
	greet := durable.NewActivity("MemoryGreet", func(ctx context.Context, name string) (string, error) { return "Hello " + name, nil })
	hello := durable.NewOrchestrator("MemoryHello", func(ctx *durable.OrchestrationContext, name string) (string, error) {
		return greet.Call(ctx, name).Await()
	})
	if err := reg.Register(greet, hello); err != nil {
		panic(err)
	}
	be := memory.New(memory.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	client := durable.NewClient(be, reg, durable.WithTaskHubName("demo"))
	id, err := hello.Start(ctx, client, "memory")
	if err != nil {
		panic(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	st, err := client.WaitForCompletion(wctx, id)
	if err != nil {
		panic(err)
	}
	out, _ := hello.Output(st)
	fmt.Println(st.RuntimeStatus, out)
	cancel()
	<-done
	// Output: Completed Hello memory
}

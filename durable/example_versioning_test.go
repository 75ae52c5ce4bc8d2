package durable_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/memory"
)

// Orchestration versioning: the app's version is 2.0; an instance started
// with an older version runs (CurrentOrOlder), a newer one fails
// (VersionFailureFail) instead of running code it was not written for.
func ExampleWithVersion() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v := durable.Versioning{DefaultVersion: "2.0", MatchStrategy: durable.VersionMatchCurrentOrOlder, FailureStrategy: durable.VersionFailureFail}
	reg := durable.NewRegistry()
	_ = reg.AddOrchestrator("Which", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return "ran version " + ctx.Version(), nil
	}))
	be := memory.New(memory.Options{})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: quiet, Versioning: &v})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()

	client := durable.NewClient(be, reg)
	client.UseVersioning(v) // StartNew without WithVersion starts 2.0
	for _, opts := range [][]durable.StartOption{nil, {durable.WithVersion("1.5")}, {durable.WithVersion("3.0")}} {
		id, err := client.StartNew(ctx, "Which", nil, opts...)
		if err != nil {
			fmt.Println(err)
			return
		}
		st, err := client.WaitForCompletion(ctx, id)
		if err != nil {
			fmt.Println(err)
			return
		}
		out, _ := durable.OutputAs[string](st)
		if st.RuntimeStatus == durable.StatusFailed {
			out = "failed"
		}
		fmt.Println(st.Version, st.RuntimeStatus, out)
	}
	// Output:
	// 2.0 Completed ran version 2.0
	// 1.5 Completed ran version 1.5
	// 3.0 Failed failed
}

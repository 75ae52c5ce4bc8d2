package durable_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/memory"
)

// run starts a worker over an in-memory backend, calls use with a client,
// and stops the worker.
func run(register func(*durable.Registry) error, use func(ctx context.Context, c *durable.Client) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	be := memory.New(memory.Options{})
	reg := durable.NewRegistry()
	if err := register(reg); err != nil {
		fmt.Println(err)
		return
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	worker := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: quiet})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- worker.Run(wctx) }()
	if err := use(ctx, durable.NewClient(be, reg)); err != nil {
		fmt.Println(err)
	}
	stop()
	<-done
}

// Function chaining with typed handles: the orchestrator calls the
// activity through its handle, the client starts the orchestrator through
// its handle and decodes the output as the orchestrator's output type.
func Example() {
	sayHello := durable.NewActivity("SayHello", func(_ context.Context, city string) (string, error) {
		return "Hello " + city + "!", nil
	})
	helloCities := durable.NewOrchestrator("HelloCities", func(ctx *durable.OrchestrationContext, cities []string) ([]string, error) {
		var out []string
		for _, c := range cities {
			g, err := sayHello.Call(ctx, c).Await()
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	})
	run(func(r *durable.Registry) error { return r.Register(sayHello, helloCities) },
		func(ctx context.Context, c *durable.Client) error {
			id, err := helloCities.Start(ctx, c, []string{"Tokyo", "London"})
			if err != nil {
				return err
			}
			st, err := c.WaitForCompletion(ctx, id)
			if err != nil {
				return err
			}
			out, err := helloCities.Output(st)
			fmt.Println(st.RuntimeStatus, out, err)
			return nil
		})
	// Output: Completed [Hello Tokyo! Hello London!] <nil>
}

// Fan-out/fan-in: start every call, then await them all.
func ExampleWhenAllOf() {
	square := durable.NewActivity("Square", func(_ context.Context, n int) (int, error) { return n * n, nil })
	sum := durable.NewOrchestrator("SumOfSquares", func(ctx *durable.OrchestrationContext, n int) (int, error) {
		tasks := make([]*durable.Task[int], n)
		for i := range tasks {
			tasks[i] = square.Call(ctx, i+1)
		}
		squares, err := durable.WhenAllOf(ctx, tasks...)
		total := 0
		for _, s := range squares {
			total += s
		}
		return total, err
	})
	run(func(r *durable.Registry) error { return r.Register(square, sum) },
		func(ctx context.Context, c *durable.Client) error {
			id, _ := sum.Start(ctx, c, 4)
			st, err := c.WaitForCompletion(ctx, id)
			if err != nil {
				return err
			}
			fmt.Println(*st.Output)
			return nil
		})
	// Output: 30
}

// Retries: a failed activity is called again after a durable timer, as
// the policy says.
func ExampleWithRetry() {
	attempts := 0
	flaky := durable.NewActivity("Flaky", func(_ context.Context, _ any) (int, error) {
		attempts++
		if attempts < 3 {
			return 0, errors.New("not yet")
		}
		return attempts, nil
	})
	orch := durable.NewOrchestrator("CallFlaky", func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		return flaky.Call(ctx, nil, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 5, FirstRetryInterval: 10 * time.Millisecond})).Await()
	})
	run(func(r *durable.Registry) error { return r.Register(flaky, orch) },
		func(ctx context.Context, c *durable.Client) error {
			id, _ := orch.Start(ctx, c, nil)
			st, err := c.WaitForCompletion(ctx, id)
			if err != nil {
				return err
			}
			fmt.Println("succeeded on attempt", *st.Output)
			return nil
		})
	// Output: succeeded on attempt 3
}

// Human interaction: wait for an event, with a timeout.
func ExampleWaitForExternalEvent() {
	approval := durable.NewOrchestrator("Approval", func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		approved, err := durable.WaitForExternalEvent[bool](ctx, "Approved", durable.WithTimeout(time.Hour)).Await()
		switch {
		case errors.Is(err, durable.ErrTimeout):
			return "timed out", nil
		case err != nil:
			return "", err
		case approved:
			return "approved", nil
		}
		return "declined", nil
	})
	run(func(r *durable.Registry) error { return r.Register(approval) },
		func(ctx context.Context, c *durable.Client) error {
			id, _ := approval.Start(ctx, c, nil, durable.WithInstanceID("order-42"))
			if err := c.RaiseEvent(ctx, id, "Approved", true); err != nil {
				return err
			}
			st, err := c.WaitForCompletion(ctx, id)
			if err != nil {
				return err
			}
			out, _ := approval.Output(st)
			fmt.Println(id, out)
			return nil
		})
	// Output: order-42 approved
}

// An entity holds state between operations; orchestrators call it and
// clients signal it.
func ExampleNewEntity() {
	counter := durable.NewEntity("Counter", func(ctx *durable.EntityContext) (any, error) {
		n, err := durable.EntityState[int](ctx)
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(ctx.Operation()) {
		case "add":
			d, err := durable.EntityInput[int](ctx)
			if err != nil {
				return nil, err
			}
			n += d
		case "get":
		default:
			return nil, durable.ErrUnknownOperation
		}
		return n, ctx.SetState(n)
	})
	add := durable.NewEntityOperation[int, int](counter, "add")
	get := durable.NewEntityOperation[any, int](counter, "get")
	orch := durable.NewOrchestrator("Tally", func(ctx *durable.OrchestrationContext, key string) (int, error) {
		if _, err := add.Call(ctx, key, 5).Await(); err != nil {
			return 0, err
		}
		return get.Call(ctx, key, nil).Await()
	})
	run(func(r *durable.Registry) error { return r.Register(counter, orch) },
		func(ctx context.Context, c *durable.Client) error {
			if err := add.SignalFrom(ctx, c, "visits", 10); err != nil {
				return err
			}
			id, _ := orch.Start(ctx, c, "visits")
			st, err := c.WaitForCompletion(ctx, id)
			if err != nil {
				return err
			}
			fmt.Println(counter.ID("visits"), *st.Output)
			return nil
		})
	// Output: @counter@visits 15
}

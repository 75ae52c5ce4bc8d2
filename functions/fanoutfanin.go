package functions

import (
	"context"

	"github.com/godurable/functions/durable"
)

// FanOutFanIn squares 1..n in parallel activities and returns the sum.
func FanOutFanIn(ctx *durable.OrchestrationContext, n int) (int, error) {
	tasks := make([]*durable.Task[int], 0, n)
	for i := 1; i <= n; i++ {
		tasks = append(tasks, durable.CallActivity[int](ctx, "Square", i))
	}
	squares, err := durable.WhenAllOf(ctx, tasks...)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, s := range squares {
		sum += s
	}
	return sum, nil
}

// Square is an activity.
func Square(ctx context.Context, n int) (int, error) { return n * n, nil }

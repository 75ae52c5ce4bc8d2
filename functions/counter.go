package functions

import (
	"encoding/json"
	"fmt"

	"github.com/godurable/functions/durable"
)

// Counter is a durable entity holding an integer: "add" (amount), "get",
// "reset", and the built-in "delete".
var Counter = durable.EntityOperations(map[string]func(ctx *durable.EntityContext, n int, input json.RawMessage) (int, any, error){
	"add": func(ctx *durable.EntityContext, n int, input json.RawMessage) (int, any, error) {
		var amount int
		if err := json.Unmarshal(input, &amount); err != nil {
			return n, nil, fmt.Errorf("add needs a whole number, got %s", input)
		}
		if n+amount < 0 {
			return n, nil, fmt.Errorf("counter %s would go below zero (%d %+d)", ctx.ID().Key, n, amount)
		}
		return n + amount, n + amount, nil
	},
	"get":   func(ctx *durable.EntityContext, n int, _ json.RawMessage) (int, any, error) { return n, n, nil },
	"reset": func(ctx *durable.EntityContext, _ int, _ json.RawMessage) (int, any, error) { return 0, nil, nil },
})

// Transfer asks CounterWorkflow to move Amount from counter From to To.
type Transfer struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount int    `json:"amount"`
}

// CounterWorkflow moves an amount between two counters atomically: inside a
// critical section over both, it reads the source, and only if it holds
// enough, takes it out and adds it to the target. It returns the two
// balances afterwards.
func CounterWorkflow(ctx *durable.OrchestrationContext, t Transfer) ([2]int, error) {
	from, to := durable.NewEntityID("Counter", t.From), durable.NewEntityID("Counter", t.To)
	release, err := durable.LockEntities(ctx, from, to)
	if err != nil {
		return [2]int{}, err
	}
	defer release()
	balance, err := durable.CallEntity[int](ctx, from, "get", nil).Await()
	if err != nil {
		return [2]int{}, err
	}
	if balance < t.Amount {
		return [2]int{}, fmt.Errorf("counter %s holds %d, less than %d", t.From, balance, t.Amount)
	}
	a, err := durable.CallEntity[int](ctx, from, "add", -t.Amount).Await()
	if err != nil {
		return [2]int{}, err
	}
	b, err := durable.CallEntity[int](ctx, to, "add", t.Amount).Await()
	if err != nil {
		return [2]int{}, err
	}
	return [2]int{a, b}, nil
}

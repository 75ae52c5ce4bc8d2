package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/handler"
)

// Invocations are the app's non-HTTP client functions, served at
// POST /{FunctionName} for the Functions host: StartFromQueue (a queue
// trigger on "orders") and PurgeOldInstances (a timer trigger).
func Invocations(client *durable.Client, purgeAfter time.Duration) map[string]handler.InvocationFunc {
	return map[string]handler.InvocationFunc{
		"StartFromQueue":    startFromQueue(client),
		"PurgeOldInstances": purgeOldInstances(client, purgeAfter),
	}
}

// Order is a message of the orders queue.
type Order struct {
	ID       string `json:"id"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
}

// startFromQueue starts one ProcessOrder orchestration per queue message.
// An order with an id gets the instance id "order-{id}", so a redelivered
// message does not start it twice.
func startFromQueue(client *durable.Client) handler.InvocationFunc {
	return func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
		var order Order
		if err := req.DecodeData("order", &order); err != nil {
			return nil, fmt.Errorf("StartFromQueue: the message is not an order: %w", err)
		}
		var opts []durable.StartOption
		if order.ID != "" {
			opts = append(opts, durable.WithInstanceID("order-"+order.ID))
		}
		id, err := client.StartNew(ctx, "ProcessOrder", order, opts...)
		if errors.Is(err, durable.ErrInstanceExists) {
			return &bindings.InvokeResponse{Logs: []string{"order " + order.ID + " is already being processed"},
				ReturnValue: map[string]string{"instanceId": "order-" + order.ID}}, nil
		}
		if err != nil {
			return nil, err
		}
		// ReturnValue is an object: the host would base64-decode a bare id.
		return &bindings.InvokeResponse{Logs: []string{"started ProcessOrder " + id},
			ReturnValue: map[string]string{"instanceId": id}}, nil
	}
}

// purgeOldInstances deletes finished instances created more than
// purgeAfter ago.
func purgeOldInstances(client *durable.Client, purgeAfter time.Duration) handler.InvocationFunc {
	return func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
		var timer struct {
			IsPastDue bool `json:"IsPastDue"`
		}
		if raw, ok := req.Data["timer"]; ok {
			_ = json.Unmarshal(raw, &timer)
		}
		n, err := client.PurgeInstances(ctx, durable.Query{
			CreatedTo:     time.Now().UTC().Add(-purgeAfter),
			RuntimeStatus: []durable.RuntimeStatus{durable.StatusCompleted, durable.StatusFailed, durable.StatusTerminated, durable.StatusCanceled},
		})
		if err != nil {
			return nil, err
		}
		return &bindings.InvokeResponse{Logs: []string{fmt.Sprintf("purged %d instances created before %s (past due: %v)",
			n, time.Now().UTC().Add(-purgeAfter).Format(time.RFC3339), timer.IsPastDue)}}, nil
	}
}

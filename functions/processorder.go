package functions

import (
	"context"
	"fmt"

	"github.com/godurable/functions/durable"
)

// ProcessOrder handles one order from the orders queue: it reserves the
// item and reports the result.
func ProcessOrder(ctx *durable.OrchestrationContext, o Order) (map[string]string, error) {
	res, err := durable.CallActivity[string](ctx, "ReserveItem", o).Await()
	if err != nil {
		return nil, err
	}
	return map[string]string{"orderId": o.ID, "status": res}, nil
}

// ReserveItem is an activity.
func ReserveItem(ctx context.Context, o Order) (string, error) {
	if o.Quantity <= 0 {
		return "", fmt.Errorf("order %s: quantity %d is not positive", o.ID, o.Quantity)
	}
	return fmt.Sprintf("reserved %d x %s", o.Quantity, o.Item), nil
}

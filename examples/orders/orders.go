package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/godurable/functions/durable"
)

// Order is the input of ProcessOrder.
type Order struct {
	ID    string `json:"id"`
	Lines []Line `json:"lines"`
	// ApprovalTimeout is how long an order over ApprovalLimit waits for the
	// Approval event, as a Go duration ("90s"); default 24h.
	ApprovalTimeout string `json:"approvalTimeout,omitempty"`
}

// Line is one item of an order.
type Line struct {
	SKU   string  `json:"sku"`
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
}

// Result is the output of ProcessOrder.
type Result struct {
	Status    string   `json:"status"` // shipped, rejected or cancelled
	Reason    string   `json:"reason,omitempty"`
	Payment   string   `json:"payment,omitempty"`
	Shipments []string `json:"shipments,omitempty"`
}

// ApprovalLimit is the order total above which a person must approve the
// order (raise the Approval event with true) before it is charged.
const ApprovalLimit = 1000.0

// Payment is the input of ChargePayment.
type Payment struct {
	OrderID string  `json:"orderId"`
	Amount  float64 `json:"amount"`
}

// The app's functions, declared once with their names and types: calls
// through them cannot misspell a name or pass the wrong input type.
var (
	ProcessOrder  = durable.NewOrchestrator("ProcessOrder", processOrder)
	ChargePayment = durable.NewActivity("ChargePayment", chargePayment)
	ShipLine      = durable.NewActivity("ShipLine", shipLine)

	// Inventory is an entity per SKU holding the units in stock.
	Inventory = durable.NewEntity("Inventory", durable.EntityOperations(map[string]func(*durable.EntityContext, int, json.RawMessage) (int, any, error){
		"add":     addStock,
		"reserve": reserveStock,
		"get": func(_ *durable.EntityContext, stock int, _ json.RawMessage) (int, any, error) {
			return stock, stock, nil
		},
	}))
	Reserve = durable.NewEntityOperation[int, bool](Inventory, "reserve")
	Restock = durable.NewEntityOperation[int, int](Inventory, "add")
)

// paymentRetry retries a declined or failed charge: the payment gateway
// is often briefly unavailable.
var paymentRetry = durable.RetryPolicy{MaxAttempts: 4, FirstRetryInterval: 200 * time.Millisecond, BackoffCoefficient: 2}

func processOrder(ctx *durable.OrchestrationContext, order Order) (Result, error) {
	if order.ID == "" || len(order.Lines) == 0 {
		return Result{Status: "rejected", Reason: "an order needs an id and at least one line"}, nil
	}
	// Fan out: reserve every line at once, each on its SKU's entity.
	reservations := make([]*durable.Task[bool], len(order.Lines))
	for i, l := range order.Lines {
		reservations[i] = Reserve.Call(ctx, l.SKU, l.Qty)
	}
	reserved, err := durable.WhenAllOf(ctx, reservations...)
	if err != nil {
		return Result{}, fmt.Errorf("reserving stock: %w", err)
	}
	release := func() error {
		for i, l := range order.Lines {
			if reserved[i] {
				if err := Restock.Signal(ctx, l.SKU, l.Qty); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i, l := range order.Lines {
		if !reserved[i] {
			return Result{Status: "rejected", Reason: "out of stock: " + l.SKU}, release()
		}
	}

	total := 0.0
	for _, l := range order.Lines {
		total += float64(l.Qty) * l.Price
	}
	if total > ApprovalLimit {
		timeout := 24 * time.Hour
		if order.ApprovalTimeout != "" {
			if timeout, err = time.ParseDuration(order.ApprovalTimeout); err != nil {
				return Result{Status: "rejected", Reason: "approvalTimeout: " + err.Error()}, release()
			}
		}
		if err := ctx.SetCustomStatus("awaiting approval"); err != nil {
			return Result{}, err
		}
		approved, err := durable.WaitForExternalEvent[bool](ctx, "Approval", durable.WithTimeout(timeout)).Await()
		switch {
		case errors.Is(err, durable.ErrTimeout):
			return Result{Status: "cancelled", Reason: "not approved within " + timeout.String()}, release()
		case err != nil:
			return Result{}, err
		case !approved:
			return Result{Status: "cancelled", Reason: "approval declined"}, release()
		}
	}

	payment, err := ChargePayment.Call(ctx, Payment{OrderID: order.ID, Amount: total}, durable.WithRetry(paymentRetry)).Await()
	if err != nil {
		return Result{Status: "cancelled", Reason: "payment failed: " + err.Error()}, release()
	}

	// Fan out the shipments, fan in their tracking numbers.
	shipments := make([]*durable.Task[string], len(order.Lines))
	for i, l := range order.Lines {
		shipments[i] = ShipLine.Call(ctx, l)
	}
	tracking, err := durable.WhenAllOf(ctx, shipments...)
	if err != nil {
		return Result{}, fmt.Errorf("shipping: %w", err)
	}
	return Result{Status: "shipped", Payment: payment, Shipments: tracking}, nil
}

// gateway stands in for a payment gateway that turns away the first
// charge of every order.
var gateway = struct {
	sync.Mutex
	calls map[string]int
}{calls: map[string]int{}}

func chargePayment(_ context.Context, p Payment) (string, error) {
	gateway.Lock()
	gateway.calls[p.OrderID]++
	first := gateway.calls[p.OrderID] == 1
	gateway.Unlock()
	if first {
		return "", errors.New("payment gateway busy, try again")
	}
	return fmt.Sprintf("pay-%s-%.2f", p.OrderID, p.Amount), nil
}

func shipLine(_ context.Context, l Line) (string, error) {
	return fmt.Sprintf("track-%s-%d", l.SKU, l.Qty), nil
}

func addStock(_ *durable.EntityContext, stock int, in json.RawMessage) (int, any, error) {
	var n int
	if err := json.Unmarshal(in, &n); err != nil || n <= 0 {
		return stock, nil, fmt.Errorf("add takes a positive number of units, got %s", in)
	}
	return stock + n, stock + n, nil
}

func reserveStock(_ *durable.EntityContext, stock int, in json.RawMessage) (int, any, error) {
	var n int
	if err := json.Unmarshal(in, &n); err != nil || n <= 0 {
		return stock, nil, fmt.Errorf("reserve takes a positive number of units, got %s", in)
	}
	if n > stock {
		return stock, false, nil
	}
	return stock - n, true, nil
}

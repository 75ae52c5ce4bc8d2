package main

import (
	"errors"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
)

// Unit tests: the same functions on the in-memory backend and a virtual
// clock, no storage and no HTTP; a 24-hour approval timeout takes
// microseconds.

func tester(t *testing.T) *durabletest.Tester {
	reg := durable.NewRegistry()
	if err := reg.Register(ProcessOrder, ChargePayment, ShipLine, Inventory); err != nil {
		t.Fatal(err)
	}
	return durabletest.New(t, reg)
}

func stockOf(t *testing.T, tt *durabletest.Tester, sku string) int {
	t.Helper()
	tt.RunUntilIdle()
	n, _ := durabletest.EntityState[int](tt, Inventory.ID(sku))
	return n
}

func TestUnitApprovalTimesOutAfterADay(t *testing.T) {
	tt := tester(t)
	tt.SignalEntity(Inventory.ID("organ"), "add", 1)
	start := tt.Now()
	inst := tt.Execute(ProcessOrder.Name(), Order{ID: "u1", Lines: []Line{{SKU: "organ", Qty: 1, Price: 20000}}})
	r := durabletest.Output[Result](inst)
	if r.Status != "cancelled" || r.Reason != "not approved within 24h0m0s" {
		t.Fatalf("result %+v", r)
	}
	if waited := tt.Now().Sub(start); waited < 24*time.Hour {
		t.Fatalf("cancelled after %v of virtual time", waited)
	}
	if got := stockOf(t, tt, "organ"); got != 1 {
		t.Fatalf("stock %d after the cancellation, want 1", got)
	}
}

func TestUnitPaymentThatNeverSucceedsReleasesTheStock(t *testing.T) {
	tt := tester(t)
	charge := tt.OnActivity(ChargePayment.Name()).ReturnError(errors.New("card declined"))
	tt.SignalEntity(Inventory.ID("cup"), "add", 10)
	inst := tt.Execute(ProcessOrder.Name(), Order{ID: "u2", Lines: []Line{{SKU: "cup", Qty: 4, Price: 3}}})
	r := durabletest.Output[Result](inst)
	if r.Status != "cancelled" || charge.Calls() != paymentRetry.MaxAttempts {
		t.Fatalf("result %+v after %d charges", r, charge.Calls())
	}
	if got := stockOf(t, tt, "cup"); got != 10 {
		t.Fatalf("stock %d, want 10", got)
	}
}

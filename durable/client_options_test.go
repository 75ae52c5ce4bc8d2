package durable_test

import (
	"context"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/memory"
)

type namedBackend struct{ *memory.Backend }

func (namedBackend) TaskHubName() string { return "FromBackend" }

func TestNewClientTakesTheHubNameFromTheBackend(t *testing.T) {
	be := memory.New(memory.Options{})
	if got := durable.NewClient(namedBackend{be}, nil).TaskHubName(); got != "FromBackend" {
		t.Fatalf("named backend: %q", got)
	}
	if got := durable.NewClient(namedBackend{be}, nil, durable.WithTaskHubName("Override")).TaskHubName(); got != "Override" {
		t.Fatalf("WithTaskHubName: %q", got)
	}
	if got := durable.NewClient(be, nil).TaskHubName(); got != "" {
		t.Fatalf("unnamed backend: %q", got)
	}
}

func TestListEntitiesTakesAQuery(t *testing.T) {
	counter := durable.NewEntity("QueryCounter", func(ctx *durable.EntityContext) (any, error) {
		n, _ := durable.EntityState[int](ctx)
		d, _ := durable.EntityInput[int](ctx)
		return nil, ctx.SetState(n + d)
	})
	other := durable.NewEntity("QueryOther", func(ctx *durable.EntityContext) (any, error) { return nil, ctx.SetState("x") })
	reg := durable.NewRegistry()
	if err := reg.Register(counter, other); err != nil {
		t.Fatal(err)
	}
	be := memory.New(memory.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w := durable.NewWorker(be, reg, durable.WorkerOptions{})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()
	c := durable.NewClient(be, reg)
	for _, k := range []string{"a", "b", "c"} {
		if err := c.SignalEntity(ctx, counter.ID(k), "add", 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SignalEntity(ctx, other.ID("z"), "set", nil, durable.SignalAt(time.Now().Add(-time.Second))); err != nil {
		t.Fatal(err)
	}
	var page *durable.EntityPage
	for {
		var err error
		page, err = c.ListEntities(ctx, durable.EntityQuery{Name: "QueryCounter", FetchState: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entities) == 3 || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(page.Entities) != 3 {
		t.Fatalf("%d entities", len(page.Entities))
	}
	for _, md := range page.Entities {
		if n, err := durable.StateAs[int](md); err != nil || n != 2 || md.ID.Name != "querycounter" {
			t.Fatalf("%s: state %v %v", md.ID, n, err)
		}
	}
	first, err := c.ListEntities(ctx, durable.EntityQuery{Name: "QueryCounter", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Entities) != 2 || first.ContinuationToken == "" || first.Entities[0].State != nil {
		t.Fatalf("first page: %d entities, token %q", len(first.Entities), first.ContinuationToken)
	}
	rest, err := c.ListEntities(ctx, durable.EntityQuery{Name: "QueryCounter", PageSize: 2, ContinuationToken: first.ContinuationToken})
	if err != nil || len(rest.Entities) != 1 {
		t.Fatalf("second page: %v %v", rest, err)
	}
}

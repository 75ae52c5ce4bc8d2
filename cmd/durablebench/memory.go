package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/godurable/functions/durable"
)

// memoryWave is the heap after one wave of a long run.
type memoryWave struct {
	Orchestrations int     `json:"orchestrations"` // completed so far
	HeapMiB        float64 `json:"heapMiB"`        // live heap after a GC
	Goroutines     int     `json:"goroutines"`
}

// memoryResult is the memory curve of a long run: the live heap after
// each wave of HelloCities5 orchestrations (each wave is purged once it
// has completed, as an app that cleans up would, which keeps the
// emulator's tables small).
type memoryResult struct {
	Waves []memoryWave `json:"waves"`
	// GrowthMiB is the heap after the last wave minus after the first.
	GrowthMiB float64 `json:"growthMiB"`
}

func liveHeap() (float64, int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20), runtime.NumGoroutine()
}

// memoryCurve runs total orchestrations in waves of wave and records the
// live heap after each.
func memoryCurve(ctx context.Context, c *durable.Client, total, wave int) (*memoryResult, error) {
	res := &memoryResult{}
	for done := 0; done < total; {
		n := min(wave, total-done)
		ids, err := startAll(ctx, c, "HelloCities5", nil, n)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := wait(ctx, c, id, 100*time.Millisecond); err != nil {
				return nil, err
			}
		}
		if err := purgeAll(ctx, c, ids); err != nil {
			return nil, err
		}
		done += n
		heap, g := liveHeap()
		res.Waves = append(res.Waves, memoryWave{Orchestrations: done, HeapMiB: heap, Goroutines: g})
	}
	if len(res.Waves) > 0 {
		res.GrowthMiB = res.Waves[len(res.Waves)-1].HeapMiB - res.Waves[0].HeapMiB
	}
	return res, nil
}

// clients is how many concurrent clients the bench drives the engine
// with, as HTTP starters or callers would.
const clients = 16

// concurrently runs f(0) … f(n-1) from the bench's concurrent clients and
// returns the errors joined.
func concurrently(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := 0; w < min(clients, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += clients {
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startAll starts n instances from the bench's concurrent clients.
func startAll(ctx context.Context, c *durable.Client, name string, input any, n int) ([]string, error) {
	ids := make([]string, n)
	err := concurrently(n, func(i int) (err error) {
		ids[i], err = c.StartNew(ctx, name, input)
		return err
	})
	return ids, err
}

// purgeAll purges instances from the bench's concurrent clients.
func purgeAll(ctx context.Context, c *durable.Client, ids []string) error {
	if err := concurrently(len(ids), func(i int) error { return c.Purge(ctx, ids[i]) }); err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	return nil
}

// idleResult is the storage traffic of a worker with nothing to do.
type idleResult struct {
	Seconds      float64 `json:"seconds"`
	StorageOps   int64   `json:"storageOps"`
	OpsPerSecond float64 `json:"storageOpsPerSecond"`
}

// idleTraffic waits for the pollers to back off fully, then counts the
// storage operations of d more seconds of idling.
func idleTraffic(ctx context.Context, counter *opCounter, settle, d time.Duration) (*idleResult, error) {
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ops0 := counter.n.Load()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ops := counter.n.Load() - ops0
	return &idleResult{Seconds: d.Seconds(), StorageOps: ops, OpsPerSecond: float64(ops) / d.Seconds()}, nil
}

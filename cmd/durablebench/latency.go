package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/internal/storageproxy"
	"github.com/godurable/functions/internal/testazurite"
)

// The latency mode runs W1 and W2 with a fixed delay added to every
// storage request (internal/storageproxy between the engine and Azurite),
// as real storage adds one. The round trips on the critical path of a
// step follow from W2's step time: (p50 at L − p50 at 0) ÷ L.

// latencyResult is W1 and W2 at one added latency.
type latencyResult struct {
	AddedMs    float64 `json:"addedMsPerRequest"`
	W1Rate     float64 `json:"w1OrchestrationsPerSecond"`
	W2Rate     float64 `json:"w2ActivitiesPerSecond"`
	W2StepP50  float64 `json:"w2StepP50Ms"`
	W2StepP95  float64 `json:"w2StepP95Ms"`
	RoundTrips float64 `json:"roundTripsPerStep,omitempty"` // from the slope against 0 ms
	w1, w2     int     // sizes, for the printout
}

// parseLatencies reads "0,10,20" (milliseconds).
func parseLatencies(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		ms, err := strconv.ParseFloat(f, 64)
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("-latency: %q is not a number of milliseconds", f)
		}
		out = append(out, time.Duration(ms*float64(time.Millisecond)))
	}
	return out, nil
}

// latencyMode measures W1 (w1 HelloCities5) and W2 (w2 steps) at each
// added latency, each on a fresh Azurite, proxy and task hub.
func latencyMode(cfg config, latencies []time.Duration, w1, w2 int) ([]latencyResult, error) {
	ctx := context.Background()
	var out []latencyResult
	var base float64
	for _, l := range latencies {
		az, err := testazurite.Start(testazurite.Options{Split: cfg.azurite != "single"})
		if err != nil {
			return nil, err
		}
		proxy, err := storageproxy.Start(az.ConnectionString(), storageproxy.Config{Latency: l})
		if err != nil {
			_ = az.Stop()
			return nil, err
		}
		r, err := func() (latencyResult, error) {
			e, err := startEngine(cfg, proxy.ConnectionString(), false)
			if err != nil {
				return latencyResult{}, err
			}
			defer e.close()
			wls := workloads(sizes{w1, w2, 1, 1, 1, 1})
			warm := workloads(sizes{20, 10, 1, 1, 1, 1})
			r := latencyResult{AddedMs: float64(l.Microseconds()) / 1000, w1: w1, w2: w2}
			for i, name := range []string{"W1", "W2"} {
				if err := warm[i].run(ctx, e.client); err != nil {
					return r, fmt.Errorf("%s warm-up at %v: %w", name, l, err)
				}
				m, err := measure(ctx, e.client, e.counter, e.steps, wls[i])
				if err != nil {
					return r, fmt.Errorf("%s at %v: %w", name, l, err)
				}
				if i == 0 {
					r.W1Rate = m.Rate
				} else {
					r.W2Rate, r.W2StepP50, r.W2StepP95 = m.Rate, m.P50StepMillis, m.P95StepMillis
				}
			}
			return r, nil
		}()
		_ = proxy.Close()
		_ = az.Stop()
		if err != nil {
			return nil, err
		}
		if l == 0 {
			base = r.W2StepP50
		} else if len(out) > 0 && out[0].AddedMs == 0 {
			r.RoundTrips = (r.W2StepP50 - base) / r.AddedMs
		}
		out = append(out, r)
	}
	return out, nil
}

func printLatency(out io.Writer, rs []latencyResult, w1, w2 int) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(out, "\nlatency: W1 (%d HelloCities5) and W2 (%d sequential activities) with a delay added to every storage request:\n", w1, w2)
	fmt.Fprintf(out, "  %8s  %14s  %14s  %16s  %s\n", "added", "W1 orch/s", "W2 act/s", "W2 step p50/p95", "round trips per step")
	for _, r := range rs {
		rt := "–"
		if r.RoundTrips != 0 {
			rt = fmt.Sprintf("%.1f", r.RoundTrips)
		}
		fmt.Fprintf(out, "  %5.0f ms  %14.1f  %14.1f  %7.1f/%5.1f ms  %s\n", r.AddedMs, r.W1Rate, r.W2Rate, r.W2StepP50, r.W2StepP95, rt)
	}
}

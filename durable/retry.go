package durable

import (
	"fmt"
	"math"
	"time"
)

// RetryPolicy says how a failed activity or sub-orchestration call is
// retried. Retry delays are durable timers, so a retrying orchestration
// survives restarts and costs nothing while it waits.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included
	// (Durable Functions' MaxNumberOfAttempts). Must be at least 1.
	MaxAttempts int
	// FirstRetryInterval is the delay before the first retry. Must be > 0.
	FirstRetryInterval time.Duration
	// BackoffCoefficient multiplies the delay after each retry (default 1).
	BackoffCoefficient float64
	// MaxRetryInterval caps a single delay (default: no cap).
	MaxRetryInterval time.Duration
	// RetryTimeout stops retrying once this much time has passed since the
	// first attempt was scheduled (default: no limit).
	RetryTimeout time.Duration
	// Handle decides whether a failure is retried (default: every failure).
	// It receives the *TaskFailedError of the failed attempt.
	Handle func(err error) bool
}

func (p *RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("retry policy: MaxAttempts is %d; it must be at least 1", p.MaxAttempts)
	case p.FirstRetryInterval <= 0:
		return fmt.Errorf("retry policy: FirstRetryInterval is %v; it must be positive", p.FirstRetryInterval)
	case p.BackoffCoefficient < 0:
		return fmt.Errorf("retry policy: BackoffCoefficient is %v; it must not be negative", p.BackoffCoefficient)
	}
	return nil
}

// delay is the wait before retry number n (1 for the first retry).
func (p *RetryPolicy) delay(n int) time.Duration {
	coef := p.BackoffCoefficient
	if coef == 0 {
		coef = 1
	}
	d := float64(p.FirstRetryInterval) * math.Pow(coef, float64(n-1))
	if p.MaxRetryInterval > 0 && d > float64(p.MaxRetryInterval) {
		return p.MaxRetryInterval
	}
	if d > float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

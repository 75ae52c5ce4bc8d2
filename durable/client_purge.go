package durable

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PurgeResult reports what PurgeInstancesWithin did.
type PurgeResult struct {
	// InstancesDeleted counts the instances purged.
	InstancesDeleted int
	// IsComplete is nil when no timeout was given; otherwise it says
	// whether every matching instance was purged before the timeout.
	IsComplete *bool
}

// PurgeInstancesWithin purges the instances that match q, as
// PurgeInstances does, but starts no further instance once timeout has
// passed (0: no timeout). The result says how many were purged and, with
// a timeout, whether the purge got through all of them; call it again to
// purge the rest.
func (c *Client) PurgeInstancesWithin(ctx context.Context, q Query, timeout time.Duration) (*PurgeResult, error) {
	res := &PurgeResult{}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
		complete := false
		res.IsComplete = &complete
	}
	expired := func() bool { return !deadline.IsZero() && !time.Now().Before(deadline) }
	q.PageSize = 100
	q.ShowInput = false
	for {
		if expired() {
			return res, nil
		}
		p, err := c.ListInstances(ctx, q)
		if err != nil {
			return res, err
		}
		for _, st := range p.Instances {
			if expired() {
				return res, nil
			}
			if err := c.be.PurgeInstance(ctx, st.InstanceID); err != nil && !errors.Is(err, ErrInstanceNotFound) {
				return res, fmt.Errorf("durable: purge %q: %w", st.InstanceID, err)
			}
			res.InstancesDeleted++
		}
		if p.ContinuationToken == "" {
			if res.IsComplete != nil {
				*res.IsComplete = true
			}
			return res, nil
		}
		q.ContinuationToken = p.ContinuationToken
	}
}

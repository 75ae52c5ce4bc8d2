package durable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// Query filters ListInstances and PurgeInstances. Zero fields don't filter.
type Query struct {
	CreatedFrom      time.Time
	CreatedTo        time.Time
	RuntimeStatus    []RuntimeStatus
	InstanceIDPrefix string
	// PageSize bounds one page (default 100).
	PageSize int
	// ShowInput fills Input (it may be large).
	ShowInput bool
	// ContinuationToken continues a previous page ("" for the first).
	ContinuationToken string
}

// Page is one page of instances.
type Page struct {
	Instances []*InstanceStatus
	// ContinuationToken fetches the next page; "" when this was the last.
	ContinuationToken string
}

// ListInstances returns one page of the orchestration instances that match
// q (entities are left out).
func (c *Client) ListInstances(ctx context.Context, q Query) (*Page, error) {
	p, err := c.be.QueryInstances(ctx, backend.InstanceQuery{
		CreatedFrom: q.CreatedFrom, CreatedTo: q.CreatedTo, RuntimeStatus: q.RuntimeStatus,
		InstanceIDPrefix: q.InstanceIDPrefix, ExcludeEntities: true, FetchInputs: q.ShowInput,
		PageSize: q.PageSize, ContinuationToken: q.ContinuationToken,
	})
	if err != nil {
		return nil, fmt.Errorf("durable: list instances: %w", err)
	}
	out := &Page{ContinuationToken: p.ContinuationToken}
	for _, st := range p.Instances {
		out.Instances = append(out.Instances, statusFromState(st))
	}
	return out, nil
}

// Purge deletes an instance's history, status and large-message blobs. It
// fails with ErrInstanceNotFound for an unknown id.
func (c *Client) Purge(ctx context.Context, instanceID string) error {
	if err := c.be.PurgeInstance(ctx, instanceID); err != nil {
		return fmt.Errorf("durable: purge %q: %w", instanceID, err)
	}
	return nil
}

// PurgeInstances deletes every instance that matches q (all pages) and
// returns how many were deleted.
func (c *Client) PurgeInstances(ctx context.Context, q Query) (int, error) {
	q.PageSize = 100
	q.ShowInput = false
	n := 0
	for {
		p, err := c.ListInstances(ctx, q)
		if err != nil {
			return n, err
		}
		for _, st := range p.Instances {
			if err := c.be.PurgeInstance(ctx, st.InstanceID); err != nil && !errors.Is(err, ErrInstanceNotFound) {
				return n, fmt.Errorf("durable: purge %q: %w", st.InstanceID, err)
			}
			n++
		}
		if p.ContinuationToken == "" {
			return n, nil
		}
		q.ContinuationToken = p.ContinuationToken
	}
}

// ErrNotFailed: Rewind works only on a Failed instance.
var ErrNotFailed = errors.New("orchestration instance is not in the Failed state")

// Rewind makes a Failed instance run its failed activities (and
// sub-orchestrations) again, keeping everything that succeeded. It fails
// with ErrInstanceNotFound or ErrNotFailed.
func (c *Client) Rewind(ctx context.Context, instanceID, reason string) error {
	st, err := c.be.GetInstance(ctx, instanceID, false)
	if err != nil {
		return fmt.Errorf("durable: rewind %q: %w", instanceID, err)
	}
	if st.RuntimeStatus != StatusFailed {
		return fmt.Errorf("durable: rewind %q: %w (it is %s)", instanceID, ErrNotFailed, st.RuntimeStatus)
	}
	if err := c.be.RewindInstance(ctx, instanceID, reason); err != nil {
		return fmt.Errorf("durable: rewind %q: %w: %w", instanceID, ErrNotFailed, err)
	}
	return nil
}

// Restart starts the instance's orchestrator again with its original
// input: under a new instance id, or, with sameID, under the same id
// (which must have finished). It returns the new instance's id and fails
// with ErrInstanceNotFound or ErrInstanceExists.
func (c *Client) Restart(ctx context.Context, instanceID string, sameID bool) (string, error) {
	st, err := c.be.GetInstance(ctx, instanceID, true)
	if err != nil {
		return "", fmt.Errorf("durable: restart %q: %w", instanceID, err)
	}
	id := NewInstanceID()
	if sameID {
		id = instanceID
	}
	var input any
	if st.Input != nil {
		input = rawJSON(*st.Input)
	}
	return c.StartNew(ctx, st.Name, input, WithInstanceID(id))
}

package durable

import (
	"context"
	"errors"
	"fmt"

	"github.com/godurable/functions/durable/backend"
)

// HubInfo describes a task hub as storage holds it now: partitions and
// their owners, queue depths and the first poison messages.
type HubInfo = backend.HubInfo

// ErrHubInspectionUnsupported is returned by InspectHub when the backend
// offers no view of its task hub.
var ErrHubInspectionUnsupported = errors.New("the backend does not support task hub inspection")

// InspectHub reads the task hub's partitions, queue depths and up to
// poisonMessages messages of the poison queue (at most 32). It changes
// nothing. Backends without a hub view fail with
// ErrHubInspectionUnsupported.
func (c *Client) InspectHub(ctx context.Context, poisonMessages int) (*HubInfo, error) {
	hi, ok := c.be.(backend.HubInspector)
	if !ok {
		return nil, ErrHubInspectionUnsupported
	}
	info, err := hi.InspectHub(ctx, backend.HubInspectOptions{PoisonMessages: poisonMessages})
	if err != nil {
		return nil, fmt.Errorf("durable: inspect task hub: %w", err)
	}
	return info, nil
}

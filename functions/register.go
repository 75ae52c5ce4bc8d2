package functions

import (
	"errors"

	"github.com/godurable/functions/durable"
)

// Register adds every sample orchestrator and activity to r under the
// names the function.json folders and HTTP routes use.
func Register(r *durable.Registry) error {
	return errors.Join(
		r.AddOrchestrator("HelloCities", durable.Orchestrator(HelloCities)),
		r.AddActivity("SayHello", durable.Activity(SayHello)),
	)
}

package azstorage

import (
	"testing"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/backend/backendtest"
)

// TestConformance runs the backend conformance suite, which the in-memory
// backend runs too, on Azurite.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) })
}

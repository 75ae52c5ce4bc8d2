package memory_test

import (
	"testing"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/backend/backendtest"
	"github.com/godurable/functions/durable/memory"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return memory.New(memory.Options{}) })
}

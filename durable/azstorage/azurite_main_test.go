package azstorage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godurable/functions/internal/testazurite"
)

func TestMain(m *testing.M) { os.Exit(testazurite.Main(m)) }

var hubCounter atomic.Int64

// testClients returns clients for the test binary's Azurite.
func testClients(t *testing.T) *Clients {
	t.Helper()
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClients(acct, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testLogger logs to the test output when -v is given.
func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestBackend creates a fresh task hub with a unique name and fast
// polling, and deletes it when the test ends.
func newTestBackend(t *testing.T, mutate ...func(*Options)) *Backend {
	t.Helper()
	opts := Options{
		TaskHub:            fmt.Sprintf("T%d%s", hubCounter.Add(1), time.Now().Format("150405")),
		PartitionCount:     4,
		WorkerID:           "test-worker",
		MaxPollingInterval: 200 * time.Millisecond,
		Logger:             testLogger(t),
	}
	for _, m := range mutate {
		m(&opts)
	}
	b, err := New(testClients(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.CreateTaskHub(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.DeleteTaskHub(ctx)
	})
	return b
}

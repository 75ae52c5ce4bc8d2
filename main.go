// Command funcapp is the app's Azure Functions custom handler: an HTTP
// server the Functions host starts and forwards invocations to, which runs
// the app's durable orchestrations, activities and client functions itself
// over Azure Storage.
//
// main only wires: settings → storage backend → engine → router → server.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/functions"
	"github.com/godurable/functions/handler"
	"github.com/godurable/functions/internal/appconfig"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv("LOG_LEVEL"))}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("funcapp stopped", "error", err)
		os.Exit(1)
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return slog.LevelInfo
	}
	return l
}

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := appconfig.Load(os.Getenv)
	if err != nil {
		return err
	}
	acct, err := azstorage.ParseConnectionString(cfg.ConnectionName, cfg.ConnectionString)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
	if err != nil {
		return err
	}
	be, err := azstorage.New(clients, azstorage.Options{
		TaskHub:                 cfg.TaskHub,
		PartitionCount:          cfg.PartitionCount,
		WorkerID:                cfg.WorkerID,
		ControlQueueBatchSize:   cfg.ControlQueueBatchSize,
		ControlQueueVisibility:  cfg.ControlQueueVisibility,
		WorkItemQueueVisibility: cfg.WorkItemQueueVisibility,
		MaxPollingInterval:      cfg.MaxQueuePollingInterval,
		Base64Messages:          cfg.UseBase64QueueMessages,
		MaxDequeueCount:         cfg.MaxDequeueCount,
		LeaseInterval:           cfg.LeaseInterval,
		LeaseRenewInterval:      cfg.LeaseRenewInterval,
		LeaseAcquireInterval:    cfg.LeaseAcquireInterval,
		Logger:                  log,
	})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	registry := durable.NewRegistry()
	if err := functions.Register(registry); err != nil {
		return err
	}

	// Listen first: the host probes GET / right away, and the probe must
	// be answered even while the task hub is being created.
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return fmt.Errorf("listen on port %d (FUNCTIONS_CUSTOMHANDLER_PORT): %w", cfg.Port, err)
	}
	client := durable.NewClient(be, registry, cfg.TaskHub)
	routePrefix := cfg.RoutePrefix
	if routePrefix == "" {
		routePrefix = "/" // host.json's empty prefix; handler.Config's "" means the default "api"
	}
	ready := make(chan struct{})
	srv := &http.Server{
		Handler: handler.New(handler.Config{
			Durable:       client,
			Logger:        log,
			PublicBaseURL: cfg.PublicBaseURL,
			RoutePrefix:   routePrefix,
			APIKey:        cfg.APIKey,
			Invocations:   functions.Invocations(client, cfg.PurgeAfter),
			Ready:         ready,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("handler listening", "port", cfg.Port, "taskHub", cfg.TaskHub, "worker", cfg.WorkerID, "partitions", cfg.PartitionCount)

	if err := createTaskHub(ctx, be, log); err != nil {
		_ = srv.Close()
		return err
	}
	close(ready)
	worker := durable.NewWorker(be, registry, durable.WorkerOptions{
		Logger:                      log,
		MaxConcurrentActivities:     cfg.MaxConcurrentActivities,
		MaxConcurrentOrchestrations: cfg.MaxConcurrentOrchestrations,
		ActivityRenewInterval:       min(30*time.Second, cfg.WorkItemQueueVisibility/2),
		EntityMessageReorderWindow:  cfg.EntityMessageReorderWindow,
	})
	workerErr := make(chan error, 1)
	go func() { workerErr <- worker.Run(ctx) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	httpErr := srv.Shutdown(shutdownCtx)
	werr := <-workerErr
	if httpErr != nil && !errors.Is(httpErr, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", httpErr)
	}
	return werr
}

// createTaskHub creates the task hub, retrying while storage is not
// reachable yet (Azurite may still be starting).
func createTaskHub(ctx context.Context, be *azstorage.Backend, log *slog.Logger) error {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := be.CreateTaskHub(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || attempt >= 10 {
			return fmt.Errorf("create task hub: %w", err)
		}
		log.Warn("storage not ready; retrying", "attempt", attempt, "error", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(delay*2, 5*time.Second)
	}
}

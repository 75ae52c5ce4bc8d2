// Command durable-replay checks, before a deployment, that the current
// orchestrator code still replays the histories stored in a task hub: it
// replays them with the real engine and reports every instance whose
// history the code no longer reproduces (an activity renamed, calls
// reordered, added or removed), with the history event where it departs.
// It exits with status 1 when any instance does not replay.
//
//	durable-replay -running                        # every instance a deployment would replay
//	durable-replay -instance order-42 -v           # one instance
//	durable-replay -status Running,Suspended -prefix order-
//	durable-replay -running -export hub.jsonl      # save histories, replay them later or in CI:
//	durable-replay -file hub.jsonl
//	durable-replay -status-json status.json        # from GET …/instances/{id}?showHistory=true&showHistoryOutput=true
//
// The task hub and its connection come from the app's settings, as the
// app reads them (AzureWebJobsStorage, host.json in the working directory
// or FUNCTIONS_APP_ROOT_PATH), unless -connection and -taskhub say
// otherwise.
//
// This command checks the sample app of package functions. For your own
// app, build the same twenty lines against your registry (or call
// replaycheck.Command from a subcommand of your app).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/replaycheck"
	"github.com/godurable/functions/funcapp"
	"github.com/godurable/functions/functions"
)

func main() {
	reg := durable.NewRegistry()
	if err := functions.Register(reg); err != nil {
		fmt.Fprintln(os.Stderr, "durable-replay:", err)
		os.Exit(2)
	}
	os.Exit(run(context.Background(), os.Args[1:], reg, os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, reg *durable.Registry, getenv func(string) string, stdout, stderr io.Writer) int {
	return replaycheck.Command(ctx, args, replaycheck.CommandOptions{
		Registry: reg, Stdout: stdout, Stderr: stderr,
		OpenTaskHub: func(ctx context.Context, connection, taskHub string) (backend.Backend, error) {
			return openTaskHub(connection, taskHub, getenv)
		},
	})
}

// openTaskHub connects to a task hub for reading, with the app's settings
// where the flags leave a value out.
func openTaskHub(connection, taskHub string, getenv func(string) string) (backend.Backend, error) {
	name := "connection"
	if connection == "" || taskHub == "" {
		cfg, err := funcapp.LoadConfig(getenv)
		if err != nil {
			return nil, err
		}
		if connection == "" {
			connection, name = cfg.ConnectionString, cfg.ConnectionName
		}
		if taskHub == "" {
			taskHub = cfg.TaskHub
		}
	}
	acct, err := azstorage.ParseConnectionString(name, connection)
	if err != nil {
		return nil, err
	}
	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
	if err != nil {
		return nil, err
	}
	return azstorage.New(clients, azstorage.Options{TaskHub: taskHub, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

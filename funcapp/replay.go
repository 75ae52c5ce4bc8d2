package funcapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/replaycheck"
)

// Replay is the app's replay command (run as "app replay [flags]", e.g.
// "app replay -running" before a deployment): it replays stored
// histories against the app's registered orchestrators and reports every
// instance the code no longer replays, with the history event where it
// departs. The task hub is the app's unless -connection or -taskhub say
// otherwise; -file and -status-json replay saved histories. It returns
// the exit code: 0 clean, 1 for a mismatch or an unreadable history, 2
// for bad flags. See package replaycheck for the flags.
func (a *App) Replay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return replaycheck.Command(ctx, args, replaycheck.CommandOptions{
		Registry: a.registry, Stdout: stdout, Stderr: stderr,
		OpenTaskHub: func(ctx context.Context, connection, taskHub string) (backend.Backend, error) {
			if connection == "" && taskHub == "" {
				return a.store, nil
			}
			if connection == "" {
				connection = a.cfg.ConnectionString
			}
			if taskHub == "" {
				taskHub = a.cfg.TaskHub
			}
			acct, err := azstorage.ParseConnectionString(a.cfg.ConnectionName, connection)
			if err != nil {
				return nil, err
			}
			clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
			if err != nil {
				return nil, err
			}
			opts := a.cfg.BackendOptions(a.log)
			opts.TaskHub = taskHub
			return azstorage.New(clients, opts)
		},
	})
}

// replayMain runs the replay subcommand of Main.
func replayMain(ctx context.Context, log *slog.Logger, setup func(*App) error, args []string) int {
	app, err := New(Options{Logger: log})
	if err == nil && setup != nil {
		err = setup(app)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		return 2
	}
	return app.Replay(ctx, args, os.Stdout, os.Stderr)
}

package replaycheck

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// CommandOptions wires Command to an app.
type CommandOptions struct {
	// Registry holds the app's current orchestrators.
	Registry *durable.Registry
	// OpenTaskHub connects to a task hub for reading; connection and
	// taskHub are the -connection and -taskhub flags, empty when not
	// given (use the app's settings then). Nil refuses the task hub
	// sources.
	OpenTaskHub func(ctx context.Context, connection, taskHub string) (backend.Backend, error)
	Stdout      io.Writer
	Stderr      io.Writer
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Command is the replay command line (cmd/durable-replay, funcapp's
// replay subcommand): it replays stored histories against the registry's
// current code and reports each instance whose history the code no longer
// reproduces. args are the flags, without the command name. It returns
// the exit code: 0 when everything replays clean, 1 when there is a
// mismatch or a history could not be read or replayed, 2 for bad usage.
func Command(ctx context.Context, args []string, o CommandOptions) int {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	fs := flag.NewFlagSet("durable-replay", flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	var instances, files, statusFiles multiFlag
	fs.Var(&instances, "instance", "replay this instance of the task hub (repeatable)")
	running := fs.Bool("running", false, "replay every Running, Pending and Suspended instance of the task hub")
	statuses := fs.String("status", "", "replay the task hub's instances in these runtime statuses (comma-separated, e.g. Running,Failed)")
	prefix := fs.String("prefix", "", "replay the task hub's instances whose id starts with this")
	createdAfter := fs.String("created-after", "", "with -status or -prefix: only instances created at or after this time (RFC 3339)")
	createdBefore := fs.String("created-before", "", "with -status or -prefix: only instances created at or before this time (RFC 3339)")
	fs.Var(&files, "file", "replay the histories of an export file, - for stdin (repeatable)")
	fs.Var(&statusFiles, "status-json", "replay the histories in a status API answer saved from "+
		"GET …/instances/{id}?showHistory=true&showHistoryOutput=true, - for stdin (repeatable)")
	export := fs.String("export", "", "write the selected task hub histories to this export file instead of replaying them")
	connection := fs.String("connection", "", "Azure Storage connection string (default: the app's setting)")
	taskHub := fs.String("taskhub", "", "task hub name (default: the app's)")
	verbose := fs.Bool("v", false, "list every replayed instance, not only mismatches")
	fs.Usage = func() {
		fmt.Fprintln(o.Stderr, "usage: durable-replay [flags]\n\nReplays stored orchestration histories against the current code and reports\n"+
			"non-determinism (instance, history event, difference) before a deployment.\nExit status 1 when any history does not replay.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(o.Stderr, "durable-replay: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if o.Registry == nil {
		fmt.Fprintln(o.Stderr, "durable-replay: no registry")
		return 2
	}
	sel := Selection{InstanceIDs: instances, Running: *running}
	if *statuses != "" || *prefix != "" {
		q := &backend.InstanceQuery{InstanceIDPrefix: *prefix}
		for _, s := range strings.Split(*statuses, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			st, err := history.ParseStatus(s, true)
			if err != nil {
				fmt.Fprintf(o.Stderr, "durable-replay: -status: %v\n", err)
				return 2
			}
			q.RuntimeStatus = append(q.RuntimeStatus, st)
		}
		for _, tf := range []struct {
			flag string
			v    string
			dst  *time.Time
		}{{"created-after", *createdAfter, &q.CreatedFrom}, {"created-before", *createdBefore, &q.CreatedTo}} {
			if tf.v == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339, tf.v)
			if err != nil {
				fmt.Fprintf(o.Stderr, "durable-replay: -%s: %v\n", tf.flag, err)
				return 2
			}
			*tf.dst = t
		}
		sel.Query = q
	}
	fromHub := len(sel.InstanceIDs) > 0 || sel.Running || sel.Query != nil
	if !fromHub && len(files) == 0 && len(statusFiles) == 0 {
		fmt.Fprintln(o.Stderr, "durable-replay: say what to replay: -running, -instance, -status, -prefix, -file or -status-json")
		fs.Usage()
		return 2
	}
	if *export != "" && (!fromHub || len(files) > 0 || len(statusFiles) > 0) {
		fmt.Fprintln(o.Stderr, "durable-replay: -export writes task hub histories: use it with -running, -instance, -status or -prefix only")
		return 2
	}

	var hs []StoredHistory
	failed := 0
	if fromHub {
		if o.OpenTaskHub == nil {
			fmt.Fprintln(o.Stderr, "durable-replay: this command cannot open a task hub")
			return 2
		}
		be, err := o.OpenTaskHub(ctx, *connection, *taskHub)
		if err != nil {
			fmt.Fprintf(o.Stderr, "durable-replay: open the task hub: %v\n", err)
			return 1
		}
		loaded, err := LoadHistories(ctx, be, sel)
		hs = append(hs, loaded...)
		if err != nil {
			fmt.Fprintf(o.Stdout, "ERROR %v\n", err)
			failed++
		}
	}
	if *export != "" {
		if failed > 0 {
			return 1
		}
		f, err := os.Create(*export)
		if err != nil {
			fmt.Fprintf(o.Stderr, "durable-replay: %v\n", err)
			return 1
		}
		err = WriteHistories(f, hs)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(o.Stderr, "durable-replay: %v\n", err)
			return 1
		}
		fmt.Fprintf(o.Stdout, "exported %d histories to %s\n", len(hs), *export)
		return 0
	}
	read := func(path string, parse func([]byte) ([]StoredHistory, error)) {
		data, err := readInput(path)
		if err == nil {
			var got []StoredHistory
			got, err = parse(data)
			hs = append(hs, got...)
		}
		if err != nil {
			fmt.Fprintf(o.Stdout, "ERROR %s: %v\n", path, err)
			failed++
		}
	}
	for _, p := range files {
		read(p, func(b []byte) ([]StoredHistory, error) { return ReadHistories(strings.NewReader(string(b))) })
	}
	for _, p := range statusFiles {
		read(p, ParseStatusJSON)
	}

	mismatches, skipped := 0, 0
	for _, r := range CheckAll(o.Registry, hs) {
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(o.Stdout, "ERROR instance %s (%s): %v\n", r.InstanceID, r.Name, r.Err)
		case r.Mismatch != nil:
			mismatches++
			fmt.Fprintf(o.Stdout, "MISMATCH %v\n", r.Mismatch)
		case r.Skipped != "":
			skipped++
			if *verbose {
				fmt.Fprintf(o.Stdout, "skipped instance %s: %s\n", r.InstanceID, r.Skipped)
			}
		case *verbose:
			fmt.Fprintf(o.Stdout, "ok instance %s (%s): %d events\n", r.InstanceID, r.Name, r.Events)
		}
	}
	fmt.Fprintf(o.Stdout, "replayed %d histories: %d mismatches, %d errors, %d skipped\n", len(hs)-skipped, mismatches, failed, skipped)
	if mismatches > 0 || failed > 0 {
		return 1
	}
	return 0
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// Command peer serves the bench's HTTP comparison workload on
// durabletask-go with its SQLite backend (a database file): the same
// routes as the durable handler's start and status API, so one driver
// runs the same workload against both. durablebench builds and runs it;
// it is a module of its own so that its dependencies stay out of the
// main module.
//
//	peer -db /tmp/peer.db -addr 127.0.0.1:0
//
// It prints "listening on <address>" once it serves.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/microsoft/durabletask-go/api"
	"github.com/microsoft/durabletask-go/backend"
	"github.com/microsoft/durabletask-go/backend/sqlite"
	"github.com/microsoft/durabletask-go/task"
)

func main() {
	db := flag.String("db", "peer.db", "SQLite database file")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	parallel := flag.Int("parallel", 20, "work items run at once, per worker (the app's host.json: maxConcurrentOrchestratorFunctions and maxConcurrentActivityFunctions 20)")
	flag.Parse()
	if err := run(*db, *addr, int32(*parallel)); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func run(db, addr string, parallel int32) error {
	r := task.NewTaskRegistry()
	if err := r.AddOrchestratorN("HelloCities", helloCities([]string{"Tokyo", "Seattle", "London"})); err != nil {
		return err
	}
	if err := r.AddOrchestratorN("HelloCities5", helloCities([]string{"Tokyo", "Seattle", "London", "Paris", "Oslo"})); err != nil {
		return err
	}
	if err := r.AddActivityN("SayHello", sayHello); err != nil {
		return err
	}
	log := quiet{}
	ex := task.NewTaskExecutor(r)
	be := sqlite.NewSqliteBackend(sqlite.NewSqliteOptions(db), log)
	w := backend.NewTaskHubWorker(be,
		backend.NewOrchestrationWorker(be, ex, log, backend.WithMaxParallelism(parallel)),
		backend.NewActivityTaskWorker(be, ex, log, backend.WithMaxParallelism(parallel)), log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := w.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = w.Shutdown(context.Background()) }()
	client := backend.NewTaskHubClient(be)

	mux := http.NewServeMux()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	mux.HandleFunc("POST /api/orchestrators/{name}", func(rw http.ResponseWriter, req *http.Request) {
		id, err := client.ScheduleNewOrchestration(req.Context(), req.PathValue("name"))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(rw).Encode(map[string]string{"id": string(id), "statusQueryGetUri": base + "/api/instances/" + string(id)})
	})
	mux.HandleFunc("GET /api/instances/{id}", func(rw http.ResponseWriter, req *http.Request) {
		md, err := client.FetchOrchestrationMetadata(req.Context(), api.InstanceID(req.PathValue("id")))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusNotFound)
			return
		}
		status := map[bool]string{true: "Completed", false: "Running"}[md.IsComplete()]
		if md.FailureDetails != nil {
			status = "Failed"
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{"runtimeStatus": status, "output": json.RawMessage(orNull(md.SerializedOutput))})
	})
	srv := &http.Server{Handler: mux}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

func helloCities(cities []string) task.Orchestrator {
	return func(ctx *task.OrchestrationContext) (any, error) {
		out := make([]string, 0, len(cities))
		for _, c := range cities {
			var s string
			if err := ctx.CallActivity("SayHello", task.WithActivityInput(c)).Await(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
}

func sayHello(ctx task.ActivityContext) (any, error) {
	var city string
	if err := ctx.GetInput(&city); err != nil {
		return nil, err
	}
	return "Hello " + city + "!", nil
}

// quiet drops durabletask-go's logs.
type quiet struct{}

func (quiet) Debug(...any)          {}
func (quiet) Debugf(string, ...any) {}
func (quiet) Info(...any)           {}
func (quiet) Infof(string, ...any)  {}
func (quiet) Warn(...any)           {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Error(...any)          {}
func (quiet) Errorf(string, ...any) {}

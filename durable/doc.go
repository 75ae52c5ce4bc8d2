// Package durable is the Go programming model of Durable Functions:
// orchestrators, activities, entities and the client that starts and
// manages their instances.
//
// # Functions
//
// An orchestrator is deterministic Go code that schedules work and awaits
// it: activities (CallActivity, or an ActivityHandle's Call), durable timers
// (CreateTimer), external events (WaitForExternalEvent), sub-orchestrations
// (CallSubOrchestrator) and entity operations (CallEntity, SignalEntity).
// Every call returns a typed *Task; Await blocks until it finishes, and
// WhenAll, WhenAllOf and WhenAny combine tasks for fan-out and fan-in. The
// orchestrator is replayed from its history after every step, so it must
// not use goroutines, wall-clock time, random numbers or I/O directly; the
// OrchestrationContext has replay-safe equivalents (CurrentUTCDateTime,
// NewGUID, Logger).
//
// An activity is an ordinary Go function, run at least once, where the I/O
// happens. An entity (EntityFunc, EntityOperations) holds a small piece of
// state and runs one operation at a time against it.
//
// Functions are registered in a Registry under their Durable Functions
// names. Declaring them as typed handles keeps the name, the input type and
// the output type together:
//
//	var SayHello = durable.NewActivity("SayHello", sayHello)
//	var Hello = durable.NewOrchestrator("Hello", hello) // calls SayHello.Call(ctx, name)
//	err := registry.Register(SayHello, Hello)
//
// The string-name functions (CallActivity[T](ctx, "SayHello", in)) stay for
// calls across languages and apps. A Worker runs the registered functions
// against a backend (package azstorage for Azure Storage, package memory
// for tests) and warns at start about handles that were declared but not
// registered. A Client starts, queries, signals and manages instances.
//
// # Errors
//
// A failed activity, sub-orchestration or entity call surfaces from Await as
// a *TaskFailedError (errors.As) carrying the failure's details; a wait that
// runs out of time is ErrTimeout (errors.Is). An orchestrator that returns an
// error or panics fails its instance with the message; the process goes on.
// Client methods return the sentinel errors of this package, wrapped
// (ErrInstanceNotFound, ErrInstanceExists, ErrInstanceFinished, …).
//
// # Testing
//
// Package durabletest runs orchestrations, activities and entities in unit
// tests on an in-memory backend with a virtual clock, with mocks by name.
// Package funcapp/funcapptest runs a whole app over a local Azure Storage
// emulator and drives it over HTTP. Package replaycheck replays the
// histories stored in a task hub against changed code before it is
// deployed, and reports the instances it would break.
//
// Package funcapp wires all of this into an Azure Functions custom handler.
package durable

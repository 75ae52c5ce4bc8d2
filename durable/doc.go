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
// Package funcapp wires all of this into an Azure Functions custom handler.
package durable

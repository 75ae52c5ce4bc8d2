// Package replay is the deterministic orchestration core: it runs an
// orchestrator function as a coroutine over an instance's history and the
// new events of an episode, and returns the actions the orchestrator took.
//
// It is pure: no storage and no goroutines other than the orchestrator's
// own coroutine, which only runs while the executor waits for it. The only
// clock is the optional step limit (WithStepLimit), a watchdog that fails
// an orchestrator step that blocks. The same history always yields the
// same actions.
//
// Replay rules, following DurableTask.Core:
//   - every call that schedules work (task, timer, sub-orchestration, event
//     send) takes the next sequence number of the execution, starting at 0;
//   - a scheduling event in history (TaskScheduled, TimerCreated,
//     SubOrchestrationInstanceCreated, EventSent) must match the action the
//     code took with the same sequence number, by kind and name; otherwise
//     the orchestration fails with a non-determinism error. Every event is
//     applied, also after the code returned, so code that returns before
//     reaching what its history holds fails the same way;
//   - completions are delivered in history order; a future's callbacks
//     (Future.OnDone) run as its completion is applied, whether or not the
//     code awaits it, and the orchestrator runs until it blocks again when
//     what it awaits is ready;
//   - external events are matched to waiters by case-insensitive name
//     (strings.EqualFold), the newest waiter first; events nobody waits for
//     are buffered in arrival order; events raised after ContinueAsNew was
//     called go to the next execution;
//   - while suspended, events are held and actions taken before the
//     suspension are not sent until the instance resumes.
//
// The context may be used only from the orchestrator's goroutine: a call
// from another goroutine changes nothing and fails the instance with a
// multithreaded-execution error; runtime.Goexit and a step that outlasts
// the step limit fail it too. Unloading an executor (Close) unwinds the
// coroutine with runtime.Goexit: deferred calls run with IsReplaying true,
// and an Await in them returns at once.
package replay

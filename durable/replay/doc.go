// Package replay is the deterministic orchestration core: it runs an
// orchestrator function as a coroutine over an instance's history and the
// new events of an episode, and returns the actions the orchestrator took.
//
// It is pure: no storage, no clocks, no goroutines other than the
// orchestrator's own coroutine, which only runs while the executor waits for
// it. The same history always yields the same actions.
//
// Replay rules, following DurableTask.Core:
//   - every call that schedules work (task, timer, sub-orchestration, event
//     send) takes the next sequence number of the execution, starting at 0;
//   - a scheduling event in history (TaskScheduled, TimerCreated,
//     SubOrchestrationInstanceCreated, EventSent) must match the action the
//     code took with the same sequence number, by kind and name; otherwise
//     the orchestration fails with a non-determinism error;
//   - completions are delivered in history order, and the orchestrator runs
//     until it blocks after each one;
//   - external events are matched to waiters by case-insensitive name, the
//     newest waiter first; events nobody waits for are buffered in arrival
//     order.
package replay

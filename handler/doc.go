// Package handler is the custom handler's HTTP surface, on a chi router
// built by New from a Config:
//
//   - GET /: the Functions host's readiness probe and health ping; it never
//     touches storage;
//   - POST /{FunctionName}: invocations of non-HTTP functions (queue,
//     timer…) in the custom handler {Data, Metadata} protocol
//     (Config.Invocations);
//   - POST /{prefix}/orchestrators/{functionName}[/{instanceId}]: the
//     HttpStart function, forwarded by the host;
//   - the Durable Functions HTTP management API under each of
//     Config.ManagementPaths: /runtime/webhooks/durabletask (where Durable
//     Functions serves it; reachable standalone) and /api/durabletask
//     (through a function route, because the host never forwards
//     /runtime/... to a custom handler), plus GET {base}/hub, a read-only
//     view of the task hub's partitions and queues;
//   - GET {base}/ui/: the dashboard (package dashboard), a page that works
//     only through the management API.
//
// The routes reach the engine only through the Durable interface, which
// *durable.Client implements. Answers follow Durable Functions' HTTP API
// where it defines them (status codes, payloads, its {"Message": …} error
// shape and empty 404s); elsewhere errors use the same JSON shape.
//
// One piece per file, each with its test: router.go (Config, New),
// start.go, status.go, statuspayload.go, historyevents.go, urls.go,
// management.go (API dispatch), commands.go, instances.go, entities.go, hub.go,
// invocations.go, health.go, query.go, errors.go, jsonobject.go, and one
// file per middleware.
package handler

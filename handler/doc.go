// Package handler is the custom handler's HTTP surface, on a chi router:
//
//   - GET /: the Functions host's readiness probe and health ping;
//   - POST /{FunctionName}: invocations of non-HTTP functions (queue, timer…)
//     in the custom handler {Data, Metadata} protocol;
//   - POST /api/orchestrators/{functionName}[/{instanceId}]: the HttpStart
//     function, forwarded by the host;
//   - the Durable Functions HTTP management API, served both at
//     /runtime/webhooks/durabletask (standalone, as Durable Functions serves
//     it) and at /api/durabletask (through the DurableTaskApi function,
//     because the host never forwards /runtime/... to a custom handler).
//
// One file per route group or middleware.
package handler

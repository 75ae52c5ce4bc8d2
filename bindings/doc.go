// Package bindings holds the wire types of the Azure Functions custom
// handler protocol: the invocation request the host POSTs to
// /{FunctionName} for non-HTTP triggers, the response it expects back, and
// the HTTP output binding. The types only decode and encode; they carry no
// logic.
package bindings

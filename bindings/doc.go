// Package bindings holds the wire types of the Azure Functions custom
// handler protocol: the invocation request the host POSTs to
// /{FunctionName} for non-HTTP triggers ({Data, Metadata}), the response it
// expects back ({Outputs, Logs, ReturnValue}), the HTTP trigger's request
// object and the "http" output binding, and the metadata of common triggers.
//
// The types only decode and encode. Decoding is lenient because the host
// sends scalar binding values as JSON strings holding their JSON text
// ("1005" for 1005, "\"hello\"" for "hello"): see DecodeValue.
package bindings

// Package functions holds the Go code of the sample app's functions: the
// orchestrators, activities and client functions that the Functions host
// sees through the function.json folders at the app root. Register adds
// them all to a registry; each file shows one Durable Functions pattern in
// the form a user would copy.
package functions

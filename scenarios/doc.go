// Package scenarios holds the orchestrators, activities and entities of the
// conformance suite: the scenarios of the Durable Task Framework's Azure
// Storage provider (its end-to-end scenario tests), written in Go against
// this runtime and run on Azurite by the package's tests.
//
// Register adds every function to a registry. Functions whose behaviour a
// scenario changes while it runs (an activity that fails until told not
// to) read their switch from the Switches passed to Register, so scenarios
// running in parallel on their own task hubs do not disturb each other.
package scenarios

// Package funcapp runs a Durable Functions app as an Azure Functions custom
// handler: the HTTP server the Functions host starts and forwards
// invocations to, which runs the app's orchestrations, activities and
// entities itself, in the background, over Azure Storage.
//
// An app's main is a few lines:
//
//	func main() {
//		funcapp.Main(func(app *funcapp.App) error {
//			r := app.Registry()
//			return errors.Join(
//				r.AddOrchestrator("HelloCities", durable.Orchestrator(HelloCities)),
//				r.AddActivity("SayHello", durable.Activity(SayHello)),
//			)
//		})
//	}
//
// Main reads the settings the way the Functions host hands them to a custom
// handler (LoadConfig: host.json at FUNCTIONS_APP_ROOT_PATH and app settings
// as environment variables), connects the storage account named by
// extensions.durableTask.storageProvider.connectionStringName, listens on
// FUNCTIONS_CUSTOMHANDLER_PORT before the task hub is ready (the host probes
// at once), creates the task hub, serves the durable HTTP API and the
// functions registered with HandleInvocation, runs the worker, and on
// SIGINT or SIGTERM stops the server and then the worker. New and Run do the
// same for a program that manages its own lifetime.
package funcapp

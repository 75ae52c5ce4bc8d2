// Command app is the sample app's Azure Functions custom handler: the
// functions of package functions served by funcapp.
package main

import (
	"github.com/godurable/functions/funcapp"
	"github.com/godurable/functions/functions"
)

func main() {
	funcapp.Main(func(app *funcapp.App) error {
		app.HandleInvocations(functions.Invocations(app.Client(), app.Config().PurgeAfter))
		return functions.Register(app.Registry())
	})
}

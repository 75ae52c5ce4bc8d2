package functions

import (
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/handler"
)

// Invocations are the app's non-HTTP functions (queue and timer
// triggers), served at POST /{FunctionName}. The samples have none yet.
func Invocations(client *durable.Client) map[string]handler.InvocationFunc {
	return map[string]handler.InvocationFunc{}
}

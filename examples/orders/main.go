// Command app is an order-fulfilment Durable Functions app: an Azure
// Functions custom handler built on github.com/godurable/functions.
package main

import "github.com/godurable/functions/funcapp"

func main() {
	funcapp.Main(func(app *funcapp.App) error {
		return app.Register(ProcessOrder, ChargePayment, ShipLine, Inventory)
	})
}

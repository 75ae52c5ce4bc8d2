package functions

import (
	"context"
	"fmt"

	"github.com/godurable/functions/durable"
)

// HelloCities is function chaining: it greets three cities one after the
// other through the SayHello activity and returns the greetings.
func HelloCities(ctx *durable.OrchestrationContext, _ any) ([]string, error) {
	var greetings []string
	for _, city := range []string{"Tokyo", "Seattle", "London"} {
		g, err := durable.CallActivity[string](ctx, "SayHello", city).Await()
		if err != nil {
			return nil, fmt.Errorf("greeting %s: %w", city, err)
		}
		greetings = append(greetings, g)
	}
	return greetings, nil
}

// SayHello is an activity: it greets one city.
func SayHello(ctx context.Context, city string) (string, error) {
	return "Hello " + city + "!", nil
}

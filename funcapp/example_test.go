package funcapp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/funcapp"
)

var (
	sayHello = durable.NewActivity("SayHello", func(_ context.Context, city string) (string, error) {
		return "Hello " + city + "!", nil
	})
	helloCities = durable.NewOrchestrator("HelloCities", func(ctx *durable.OrchestrationContext, _ any) ([]string, error) {
		var out []string
		for _, city := range []string{"Tokyo", "Seattle", "London"} {
			g, err := sayHello.Call(ctx, city).Await()
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	})
)

// The whole main of an app: register the functions, run until SIGTERM.
func ExampleMain() {
	funcapp.Main(func(app *funcapp.App) error {
		return app.Register(helloCities, sayHello)
	})
}

// An app that manages its own lifetime, with a queue-triggered client
// function next to its orchestrations.
func ExampleNew() {
	app, err := funcapp.New(funcapp.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := app.Register(helloCities, sayHello); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// StartFromQueue/function.json declares a queue trigger binding named
	// "order"; the host invokes POST /StartFromQueue with the message.
	app.HandleInvocation("StartFromQueue", func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
		var order struct{ ID string }
		if err := req.DecodeData("order", &order); err != nil {
			return nil, err
		}
		id, err := helloCities.Start(ctx, app.Client(), nil, durable.WithInstanceID("order-"+order.ID))
		return &bindings.InvokeResponse{ReturnValue: map[string]string{"instanceId": id}}, err
	})
	if err := app.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// LoadConfig reads host.json and the app settings as the Functions host
// hands them over; %NAME% in the hub name is an app setting.
func ExampleLoadConfig() {
	dir, _ := os.MkdirTemp("", "app")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{
	  "version": "2.0",
	  "extensions": {"durableTask": {"hubName": "%HUB_NAME%", "maxConcurrentActivityFunctions": 8,
	    "storageProvider": {"partitionCount": 2, "maxQueuePollingInterval": "00:00:05"}}}}`), 0o644)
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "HUB_NAME": "Orders", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
	cfg, err := funcapp.LoadConfig(func(k string) string { return settings[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.TaskHub, cfg.PartitionCount, cfg.MaxConcurrentActivities, cfg.MaxQueuePollingInterval, cfg.Port, cfg.RoutePrefix)
	// Output: Orders 2 8 5s 7071 api
}

package funcapp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/handler"
)

// WakeUpFunction is the name of the app's wake-up function: a queue
// trigger on the task hub's wake-up queue "{hub}-wakeup" (function folder
// DurableWakeUp at the app root). For every durable timer, scheduled start
// and delayed entity signal the worker writes a wake-up message visible at
// the same time, so on the Consumption plan the platform starts an
// instance of an idle app when one comes due. The function itself only
// makes the worker poll at once; the Functions host deletes the message.
const WakeUpFunction = "DurableWakeUp"

// wakeUpQueue is the wake-up queue name of a task hub.
func wakeUpQueue(hub string) string { return strings.ToLower(hub) + "-wakeup" }

// queueTrigger is one queue trigger declared in a function.json.
type queueTrigger struct {
	file, queue string
}

// queueTriggers lists the queue triggers of the app's function.json files
// (by folder name). Unreadable files are skipped: CheckFunctionJSON and
// the host report them.
func queueTriggers(appRoot string) []queueTrigger {
	files, _ := filepath.Glob(filepath.Join(appRoot, "*", "function.json"))
	sort.Strings(files)
	var out []queueTrigger
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var fn struct {
			Bindings []struct {
				Type      string `json:"type"`
				QueueName string `json:"queueName"`
			} `json:"bindings"`
		}
		if json.Unmarshal(data, &fn) != nil {
			continue
		}
		for _, b := range fn.Bindings {
			if strings.EqualFold(b.Type, "queueTrigger") {
				out = append(out, queueTrigger{file: f, queue: strings.ToLower(b.QueueName)})
			}
		}
	}
	return out
}

// hasWakeUpTrigger reports whether a function of the app watches the
// hub's wake-up queue.
func hasWakeUpTrigger(appRoot, hub string) bool {
	for _, t := range queueTriggers(appRoot) {
		if t.queue == wakeUpQueue(hub) {
			return true
		}
	}
	return false
}

// checkQueueTriggers refuses a queue trigger on one of the task hub's own
// queues: the Functions host would take and delete the hub's messages.
func checkQueueTriggers(appRoot string, names azstorage.Names) error {
	own := map[string]bool{names.WorkItemQueue(): true, names.PoisonQueue(): true}
	for _, q := range names.ControlQueues() {
		own[q] = true
	}
	for _, t := range queueTriggers(appRoot) {
		if own[t.queue] {
			return fmt.Errorf("%s: a queue trigger on the task hub's own queue %q would let the Functions host take "+
				"and delete the hub's messages; point it at another queue (the wake-up function watches %q)",
				t.file, t.queue, names.WakeUpQueue())
		}
	}
	return nil
}

// wakeUpInvocation serves the wake-up function: the worker polls every
// queue at once.
func wakeUpInvocation(be *azstorage.Backend) handler.InvocationFunc {
	return func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
		if be != nil {
			be.WakeUp()
		}
		return &bindings.InvokeResponse{Logs: []string{"woke the durable worker"}}, nil
	}
}

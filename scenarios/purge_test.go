package scenarios

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
)

// purged checks that an instance has neither history nor status.
func (h *host) purged(id string) {
	h.t.Helper()
	if n := h.history(id); n != 0 {
		h.t.Errorf("%s still has %d history events", id, n)
	}
	if st := h.status(id); st != nil {
		h.t.Errorf("%s still has a status (%s)", id, st.RuntimeStatus)
	}
	if row := h.instanceRow(id); row != nil {
		h.t.Errorf("%s still has an Instances row", id)
	}
}

// present checks that an instance has history and a status.
func (h *host) present(id string) {
	h.t.Helper()
	if n := h.history(id); n == 0 {
		h.t.Errorf("%s has no history", id)
	}
	if st := h.status(id); st == nil || st.InstanceID != id {
		h.t.Errorf("%s has no status", id)
	}
}

func (h *host) blobsOf(id string) int { return h.blobCount(azstorage.EscapePartitionKey(id) + "/") }

func (h *host) purgeByTime(from, to time.Time, statuses ...durable.RuntimeStatus) int {
	h.t.Helper()
	n, err := h.client.PurgeInstances(context.Background(), durable.Query{CreatedFrom: from, CreatedTo: to, RuntimeStatus: statuses})
	if err != nil {
		h.t.Fatalf("purge by time: %v", err)
	}
	return n
}

var everyEndStatus = []durable.RuntimeStatus{durable.StatusCompleted, durable.StatusTerminated, durable.StatusFailed, durable.StatusRunning}

// Purging one instance deletes its history and status.
func TestScenario_PurgeInstanceHistoryForSingleInstanceWithoutLargeMessageBlobs(t *testing.T) {
	purgeFactorial(t, durable.NewInstanceID())
}

// An instance id with a single quote is escaped in the purge's queries.
func TestScenario_PurgeInstanceHistory_InstanceIdWithSingleQuote_Succeeds(t *testing.T) {
	purgeFactorial(t, "purge'inject-"+durable.NewInstanceID())
}

// purgeFactorial runs Factorial of 110 as id, purges it and checks that
// nothing of it is left.
func purgeFactorial(t *testing.T, id string) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	h.wait(h.start("Factorial", 110, durable.WithInstanceID(id)), 3*time.Minute)
	h.present(id)
	h.purgeOne(id)
}

// purgeOne purges one instance (failing the test on an error) and checks
// that nothing of it is left.
func (h *host) purgeOne(id string) {
	h.t.Helper()
	if err := h.purge(id); err != nil {
		h.t.Fatal(err)
	}
	h.purged(id)
}

// Purging an instance with large messages also deletes their blobs.
func TestScenario_PurgeInstanceHistoryForSingleInstanceWithLargeMessageBlobs(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	id := durable.NewInstanceID()
	msg := mediumPayload()
	st := h.wait(h.start("Echo", msg, durable.WithInstanceID(id)), 2*time.Minute)
	expectStatus(t, st, durable.StatusCompleted)
	h.present(id)
	if h.blobsOf(id) == 0 {
		t.Fatal("no large-message blobs")
	}
	all := h.listAll(durable.Query{})
	if len(all) != 1 || jsonOf[string](t, "output", all[0].Output) != msg {
		t.Fatalf("query: %d instances or wrong output", len(all))
	}
	h.purgeOne(id)
	if n := h.blobsOf(id); n != 0 {
		t.Errorf("%d blobs left", n)
	}
}

// Purging a time range with every status deletes all four instances and
// the fourth's large-message blobs.
func TestScenario_PurgeInstanceHistoryForTimePeriodDeleteAll(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	ids := []string{"instance1", "instance2", "instance3"}
	for _, id := range ids {
		h.wait(h.start("FanOutFanIn", 50, durable.WithInstanceID(id)), time.Minute)
	}
	msg := mediumPayload()
	expectStatus(t, h.wait(h.start("Echo", msg, durable.WithInstanceID("instance4")), 2*time.Minute), durable.StatusCompleted)
	ids = append(ids, "instance4")
	all := h.listAll(durable.Query{})
	if len(all) != 4 {
		t.Fatalf("%d instances, want 4", len(all))
	}
	for _, st := range all {
		want := `"Done"`
		if st.InstanceID == "instance4" {
			if jsonOf[string](t, "output", st.Output) != msg {
				t.Errorf("instance4 output differs")
			}
			continue
		}
		if text(st.Output) != want {
			t.Errorf("%s output %s", st.InstanceID, text(st.Output))
		}
	}
	for _, id := range ids {
		h.present(id)
	}
	// The .NET provider writes 6 blobs for this echo; count what this one
	// wrote and require all of them gone afterwards.
	blobs := h.blobsOf("instance4")
	if blobs == 0 {
		t.Fatal("no large-message blobs for instance4")
	}
	if n := h.purgeByTime(from, time.Now().UTC(), everyEndStatus...); n != 4 {
		t.Errorf("purged %d, want 4", n)
	}
	for _, id := range ids {
		h.purged(id)
	}
	if n := h.blobsOf("instance4"); n != 0 {
		t.Errorf("%d of %d blobs left", n, blobs)
	}
}

// fiveFactorials runs five instances of Factorial of 10 at once, their
// ids prefix and a new id, and waits until each has completed.
func (h *host) fiveFactorials(prefix string) []string {
	h.t.Helper()
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, h.start("Factorial", 10, durable.WithInstanceID(prefix+durable.NewInstanceID())))
	}
	for _, id := range ids {
		expectStatus(h.t, h.wait(id, time.Minute), durable.StatusCompleted)
	}
	return ids
}

// Several concurrently run instances are all purged by a time range.
func TestScenario_PurgeMultipleInstancesHistoryByTimePeriod_ScalabilityValidation(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	ids := h.fiveFactorials("purge-scale-")
	for _, id := range ids {
		h.present(id)
	}
	h.purgeByTime(from, time.Now().UTC(), durable.StatusCompleted)
	for _, id := range ids {
		h.purged(id)
	}
}

// Purging the same instance twice is harmless: the second finds nothing.
func TestScenario_PurgeSingleInstanceWithIdempotency(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	id := durable.NewInstanceID()
	h.wait(h.start("Factorial", 110, durable.WithInstanceID(id)), 3*time.Minute)
	h.purgeOne(id)
	if err := h.purge(id); err != nil && !errors.Is(err, durable.ErrInstanceNotFound) {
		t.Fatalf("second purge: %v", err)
	}
	h.purged(id)
}

// A 70 KB payload's blobs are deleted by the purge.
func TestScenario_PurgeSingleInstance_WithLargeBlobs_CleansUpBlobs(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	id := durable.NewInstanceID()
	msg := randomPayload(70*1024, false)
	expectStatus(t, h.wait(h.start("Echo", msg, durable.WithInstanceID(id)), 2*time.Minute), durable.StatusCompleted)
	if h.blobsOf(id) == 0 {
		t.Fatal("no large-message blobs before the purge")
	}
	if err := h.purge(id); err != nil {
		t.Fatal(err)
	}
	if n := h.blobsOf(id); n != 0 {
		t.Errorf("%d blobs left", n)
	}
	h.purged(id)
}

// More history rows than one table batch holds are all deleted.
func TestScenario_PurgeInstance_WithManyHistoryRows_DeletesAll(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	id := durable.NewInstanceID()
	expectStatus(t, h.wait(h.start("FanOutFanIn", 50, durable.WithInstanceID(id)), time.Minute), durable.StatusCompleted)
	if n := h.history(id); n <= 50 {
		t.Fatalf("%d history events, want more than 50", n)
	}
	h.purgeOne(id)
}

// A time-range purge clears every instance's history.
func TestScenario_PurgeAllInstances_HistoryIsCleared(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	ids := h.fiveFactorials("purge-complete-")
	if n := h.purgeByTime(from, time.Now().UTC(), durable.StatusCompleted); n != 5 {
		t.Errorf("purged %d, want 5", n)
	}
	for _, id := range ids {
		if n := h.history(id); n != 0 {
			t.Errorf("%s has %d history events", id, n)
		}
	}
}

// A time range that covers only the first instance purges only it.
func TestScenario_PurgeInstanceHistoryForTimePeriodDeletePartially(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	first := durable.NewInstanceID()
	h.wait(h.start("FanOutFanIn", 50, durable.WithInstanceID(first)), time.Minute)
	to := time.Now().UTC()
	time.Sleep(2 * time.Second)
	second, third := durable.NewInstanceID(), durable.NewInstanceID()
	h.wait(h.start("FanOutFanIn", 50, durable.WithInstanceID(second)), time.Minute)
	h.wait(h.start("FanOutFanIn", 50, durable.WithInstanceID(third)), time.Minute)
	all := h.listAll(durable.Query{})
	if len(all) != 3 {
		t.Fatalf("%d instances, want 3", len(all))
	}
	for _, st := range all {
		if text(st.Output) != `"Done"` {
			t.Errorf("%s output %s", st.InstanceID, text(st.Output))
		}
	}
	for _, id := range []string{first, second, third} {
		h.present(id)
	}
	h.purgeByTime(from, to, everyEndStatus...)
	h.purged(first)
	h.present(second)
	h.present(third)
}

// purgeCompletedWithin purges the instances created since from that
// completed, within timeout (none with 0).
func (h *host) purgeCompletedWithin(from time.Time, timeout time.Duration) *durable.PurgeResult {
	h.t.Helper()
	res, err := h.client.PurgeInstancesWithin(context.Background(),
		durable.Query{CreatedFrom: from, CreatedTo: time.Now().UTC(), RuntimeStatus: []durable.RuntimeStatus{durable.StatusCompleted}}, timeout)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// With a generous timeout the purge gets through all and says so.
func TestScenario_PurgeInstanceHistoryWithTimeoutCompletesAll(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	h.wait(h.start("SayHelloInline", "World"), time.Minute)
	h.wait(h.start("SayHelloInline", "World"), time.Minute)
	if n := len(h.listAll(durable.Query{})); n != 2 {
		t.Fatalf("%d instances, want 2", n)
	}
	res := h.purgeCompletedWithin(from, 5*time.Minute)
	if res.InstancesDeleted != 2 || res.IsComplete == nil || !*res.IsComplete {
		t.Fatalf("result %+v (complete %v), want 2 deleted and complete", res, res.IsComplete)
	}
	if n := len(h.listAll(durable.Query{})); n != 0 {
		t.Errorf("%d instances left", n)
	}
}

// A timeout too short for 50 instances stops the purge early and says
// it is not complete.
func TestScenario_PurgeInstanceHistoryWithTimeoutExpiresReturnsIsCompleteFalse(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	var ids []string
	for i := 0; i < 50; i++ {
		ids = append(ids, h.start("SayHelloInline", "World"))
	}
	for _, id := range ids {
		h.wait(id, time.Minute)
	}
	res := h.purgeCompletedWithin(from, 100*time.Millisecond)
	if res.IsComplete == nil || *res.IsComplete {
		t.Fatalf("IsComplete %v, want false", res.IsComplete)
	}
	if left := len(h.listAll(durable.Query{})); left+res.InstancesDeleted != 50 || left == 0 {
		t.Errorf("%d deleted and %d left of 50", res.InstancesDeleted, left)
	}
}

// Without a timeout the result has no IsComplete.
func TestScenario_PurgeInstanceHistoryWithoutTimeoutReturnsNullIsComplete(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	from := time.Now().UTC()
	h.wait(h.start("SayHelloInline", "World"), time.Minute)
	res := h.purgeCompletedWithin(from, 0)
	if res.InstancesDeleted != 1 || res.IsComplete != nil {
		t.Fatalf("result %+v, want 1 deleted and no IsComplete", res)
	}
}

// The character-counter actor (input doubled three times through
// continue-as-new, large enough for blobs) ends with the expected text.
func characterCounter(t *testing.T, h *host) string {
	t.Helper()
	msg := mediumPayload()
	final, count := msg, len(msg)
	id := h.start("CharacterCounter", CounterState{Item1: msg, Item2: count})
	h.waitForStartup(id)
	for i := 0; i < 3; i++ {
		h.raise(id, "operation", "double")
		final += Reverse(final)
		count *= 2
		time.Sleep(time.Second)
	}
	st := h.status(id)
	if st.RuntimeStatus != durable.StatusRunning && st.RuntimeStatus != durable.StatusContinuedAsNew {
		t.Fatalf("the counter is %s", st.RuntimeStatus)
	}
	h.raise(id, "operation", "end")
	st = h.wait(id, 2*time.Minute)
	expectStatus(t, st, durable.StatusCompleted)
	in := jsonOf[CounterState](t, "input", st.Input)
	out := jsonOf[CounterState](t, "output", st.Output)
	if in.Item1 != final || in.Item2 != len(final) {
		t.Errorf("input: %d characters, count %d; want %d", len(in.Item1), in.Item2, len(final))
	}
	if out.Item1 != final || out.Item2 != count {
		t.Errorf("output: %d characters, count %d; want %d, %d", len(out.Item1), out.Item2, len(final), count)
	}
	return id
}

// Large state carried through continue-as-new comes back whole.
func TestScenario_ActorOrchestrationForLargeInput(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		characterCounter(t, newHost(t, hostOptions{extendedSessions: ext}))
	})
}

// Purging the actor deletes every large-message blob its executions left.
func TestScenario_ActorOrchestrationDeleteAllLargeMessageBlobs(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		from := time.Now().UTC()
		id := characterCounter(t, h)
		h.present(id)
		if h.blobsOf(id) == 0 {
			t.Fatal("no large-message blobs")
		}
		h.purgeByTime(from, time.Now().UTC(), everyEndStatus...)
		h.purged(id)
		if n := h.blobsOf(id); n != 0 {
			t.Errorf("%d blobs left", n)
		}
	})
}

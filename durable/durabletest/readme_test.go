package durabletest_test

// The example of the README's "Testing your orchestrations" section, kept
// compiling and passing here.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
)

type Request struct {
	ID     string `json:"id"`
	Amount int    `json:"amount"`
}

var (
	NotifyApprover = durable.NewActivity("NotifyApprover", func(ctx context.Context, r Request) (string, error) {
		return "", errors.New("sends a mail in production")
	})
	Approve = durable.NewOrchestrator("Approve", func(ctx *durable.OrchestrationContext, r Request) (string, error) {
		if _, err := NotifyApprover.Call(ctx, r).Await(); err != nil {
			return "", err
		}
		ok, err := durable.WaitForExternalEvent[bool](ctx, "Decision", durable.WithTimeout(72*time.Hour)).Await()
		switch {
		case errors.Is(err, durable.ErrTimeout):
			return "escalated", nil
		case err != nil:
			return "", err
		case ok:
			return "approved", nil
		}
		return "rejected", nil
	})
)

func TestApproval(t *testing.T) {
	reg := durable.NewRegistry()
	if err := reg.Register(NotifyApprover, Approve); err != nil {
		t.Fatal(err)
	}

	t.Run("approved after a day", func(t *testing.T) {
		tt := durabletest.New(t, reg)
		mail := durabletest.MockActivity(tt, NotifyApprover, func(r Request) (string, error) { return "sent", nil })
		inst := durabletest.Start(tt, Approve, Request{ID: "r1", Amount: 500})
		inst.RaiseEventAfter(24*time.Hour, "Decision", true)
		tt.RunUntilDone(inst)
		if got := durabletest.Result(Approve, inst); got != "approved" || mail.Calls() != 1 {
			t.Fatalf("got %q after %d mails", got, mail.Calls())
		}
	})

	t.Run("escalated after 72 hours", func(t *testing.T) {
		tt := durabletest.New(t, reg)
		tt.OnActivity("NotifyApprover").Return("sent")
		inst := durabletest.Execute(tt, Approve, Request{ID: "r2"})
		if got := durabletest.Result(Approve, inst); got != "escalated" {
			t.Fatalf("got %q", got)
		}
		if waited := tt.Now().Sub(durabletest.DefaultStartTime); waited != 72*time.Hour {
			t.Fatalf("virtual time moved %v", waited)
		}
	})

	t.Run("the mail service is down", func(t *testing.T) {
		tt := durabletest.New(t, reg)
		tt.OnActivity("NotifyApprover").ReturnError(errors.New("SMTP 421"))
		inst := durabletest.Execute(tt, Approve, Request{ID: "r3"})
		var failed *durable.OrchestrationFailedError
		if !errors.As(inst.Err(), &failed) || failed.Details.InnerFailure.ErrorMessage != "SMTP 421" {
			t.Fatalf("err = %v", inst.Err())
		}
	})
}

package azstorage

import (
	"context"
	"testing"
	"time"
)

// A partition claimed afresh is leased for LeaseInterval, like a renewed
// one, so a worker that dies right after claiming blocks it no longer.
func TestFreshPartitionClaimLastsLeaseInterval(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.LeaseInterval = 7 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	m := newPartitionManager(b)
	defer func() { cancel(); m.stopAll() }()
	if _, err := m.round(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := b.queryRows(ctx, b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil || len(rows) != b.opts.PartitionCount {
		t.Fatalf("partition rows: %v, %d", err, len(rows))
	}
	for _, r := range rows {
		l := leaseFromRow(r)
		if l.CurrentOwner != b.opts.WorkerID {
			t.Fatalf("%s is owned by %q after a claim round", l.Queue, l.CurrentOwner)
		}
		if d := l.ExpiresAt.Sub(l.OwnedSince); d != 7*time.Second {
			t.Errorf("%s: a fresh claim lasts %v, want the lease interval 7s", l.Queue, d)
		}
	}
}

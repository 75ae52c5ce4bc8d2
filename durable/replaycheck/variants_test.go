package replaycheck

import (
	"fmt"
	"testing"
	"time"
)

func TestTieOrders(t *testing.T) {
	type item struct {
		name string
		at   int
	}
	at := func(i item) time.Time { return time.Unix(int64(i.at), 0) }
	key := func(i item) string { return i.name[:1] }
	items := []item{{"a1", 0}, {"A1", 1}, {"A2", 1}, {"B1", 1}, {"c1", 2}, {"C1", 3}, {"D1", 3}}
	got := tieOrders(items, at, key, 32)
	var s []string
	for _, o := range got {
		line := ""
		for _, it := range o {
			line += it.name + " "
		}
		s = append(s, line)
	}
	// Group at 1: AAB (given), ABA, BAA; group at 3: CD (given), DC. Six
	// orders in all, the given one left out; same-kind calls keep their
	// relative order.
	want := fmt.Sprint([]string{
		"a1 A1 A2 B1 c1 D1 C1 ",
		"a1 A1 B1 A2 c1 C1 D1 ",
		"a1 A1 B1 A2 c1 D1 C1 ",
		"a1 B1 A1 A2 c1 C1 D1 ",
		"a1 B1 A1 A2 c1 D1 C1 ",
	})
	if fmt.Sprint(s) != want {
		t.Fatalf("orders:\n%s\nwant\n%s", s, want)
	}
	if n := len(tieOrders(items, at, key, 2)); n != 2 {
		t.Fatalf("limit 2 gave %d orders", n)
	}
}

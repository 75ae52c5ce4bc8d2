package azstorage

import (
	"fmt"
	"testing"
)

// Check values of DurableTask.AzureStorage's partition hash.
func TestPartitionRoutingCheckValues(t *testing.T) {
	for _, c := range []struct {
		id   string
		hash uint32
		part int
	}{
		{"abc", 0x1A47E90B, 3},
		{"myinstance", 0xC06A6290, 0},
		{"@counter@k1", 0x1E73E8EB, 3},
		{"", 2166136261, int(2166136261 % 4)},
	} {
		if h := fnv1a32(c.id); h != c.hash {
			t.Errorf("FNV1a32(%q) = %08X, want %08X", c.id, h, c.hash)
		}
		if p := PartitionIndex(c.id, 4); p != c.part {
			t.Errorf("PartitionIndex(%q, 4) = %d, want %d", c.id, p, c.part)
		}
	}
}

func TestPartitionHashIsOverUTF8AndCaseSensitive(t *testing.T) {
	// FNV-1a by hand over the two UTF-8 bytes of "é" (C3 A9).
	h := uint32(2166136261)
	for _, b := range []byte{0xC3, 0xA9} {
		h ^= uint32(b)
		h *= 16777619
	}
	if got := fnv1a32("é"); got != h {
		t.Errorf("FNV1a32(é) = %08X, want %08X", got, h)
	}
	if fnv1a32("ABC") == fnv1a32("abc") {
		t.Error("the hash must be case-sensitive")
	}
}

func TestPartitionIndexStaysInRange(t *testing.T) {
	for count := 1; count <= 16; count++ {
		seen := map[int]bool{}
		for i := 0; i < 2000; i++ {
			p := PartitionIndex(fmt.Sprintf("instance-%d", i), count)
			if p < 0 || p >= count {
				t.Fatalf("PartitionIndex(…, %d) = %d", count, p)
			}
			seen[p] = true
		}
		if len(seen) != count {
			t.Errorf("count %d: only partitions %v used by 2000 ids", count, seen)
		}
	}
}

func TestPartitionIndexRejectsNonPositiveCounts(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("PartitionIndex(…, 0) did not panic")
		}
	}()
	PartitionIndex("abc", 0)
}

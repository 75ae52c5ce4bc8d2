package azstorage

import "fmt"

// FNV-1a 32-bit parameters.
const (
	fnvOffsetBasis32 uint32 = 2166136261
	fnvPrime32       uint32 = 16777619
)

// fnv1a32 is the 32-bit FNV-1a hash of s's UTF-8 bytes, the hash
// DurableTask.AzureStorage routes instances with. It is
// case-sensitive.
func fnv1a32(s string) uint32 {
	h := fnvOffsetBasis32
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime32
	}
	return h
}

// PartitionIndex is the control queue index an instance belongs to:
// fnv1a32(instanceID) mod count. Every writer of a hub must use the same
// count. It panics if count is not positive, which is a programming error
// (counts are validated by NewNames).
func PartitionIndex(instanceID string, count int) int {
	if count < 1 {
		panic(fmt.Sprintf("azstorage: PartitionIndex(%q, %d): partition count must be positive", instanceID, count))
	}
	return int(fnv1a32(instanceID) % uint32(count))
}

package azstorage

// FNV1a32 is the 32-bit FNV-1a hash of s's UTF-8 bytes, the hash
// DurableTask.AzureStorage routes instances with.
func FNV1a32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// PartitionIndex is the control queue an instance belongs to. Every
// writer of a hub must use the same partition count.
func PartitionIndex(instanceID string, partitions int) int {
	return int(FNV1a32(instanceID) % uint32(partitions))
}

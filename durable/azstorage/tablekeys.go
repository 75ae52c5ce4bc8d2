package azstorage

import (
	"fmt"
	"strings"
)

// EscapePartitionKey turns an instance id into a table PartitionKey (spec
// §1.3): '^' doubles, the characters tables forbid ('/', '\', '#', '?')
// become ^0..^3, and control characters become '^' plus the character
// shifted by U+00C0.
func EscapePartitionKey(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r == '^':
			b.WriteString("^^")
		case r == '/':
			b.WriteString("^0")
		case r == '\\':
			b.WriteString("^1")
		case r == '#':
			b.WriteString("^2")
		case r == '?':
			b.WriteString("^3")
		case r <= 0x1f || (r >= 0x7f && r <= 0x9f):
			b.WriteRune('^')
			b.WriteRune(0xC0 + r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// UnescapePartitionKey reverses EscapePartitionKey.
func UnescapePartitionKey(pk string) string {
	if !strings.ContainsRune(pk, '^') {
		return pk
	}
	var b strings.Builder
	rs := []rune(pk)
	for i := 0; i < len(rs); i++ {
		if rs[i] != '^' || i+1 == len(rs) {
			b.WriteRune(rs[i])
			continue
		}
		i++
		switch c := rs[i]; c {
		case '^':
			b.WriteRune('^')
		case '0':
			b.WriteRune('/')
		case '1':
			b.WriteRune('\\')
		case '2':
			b.WriteRune('#')
		case '3':
			b.WriteRune('?')
		default:
			b.WriteRune(c - 0xC0)
		}
	}
	return b.String()
}

// RowKeyForSequence is a history row's key: the event's index in its
// execution as 16 uppercase hex digits.
func RowKeyForSequence(n int) string { return fmt.Sprintf("%016X", n) }

// ODataQuote quotes a string literal for a table filter.
func ODataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// PartitionKeyFilter is the filter for one instance's rows.
func PartitionKeyFilter(instanceID string) string {
	return "PartitionKey eq " + ODataQuote(EscapePartitionKey(instanceID))
}

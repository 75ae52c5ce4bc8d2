package azstorage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sentinelRowKey is the RowKey of a history partition's checkpoint guard
// row; it sorts after every hex sequence key.
const sentinelRowKey = "sentinel"

// partitionKeyEscape is KeySanitation's escape character and
// controlCharShift the offset added to an escaped control character.
const (
	partitionKeyEscape = '^'
	controlCharShift   = 0xC0 // 'À'
)

// EscapePartitionKey turns an instance ID into the PartitionKey of its
// History and Instances rows: '^' is doubled, the characters
// the Table service forbids in keys ('/', '\', '#', '?') become ^0..^3,
// and control characters (U+0000..U+001F, U+007F..U+009F) become '^'
// followed by the character shifted up by U+00C0. The function is not
// idempotent: escape raw instance IDs only.
func EscapePartitionKey(instanceID string) string {
	if !needsPartitionKeyEscape(instanceID) {
		return instanceID
	}
	var b strings.Builder
	b.Grow(len(instanceID) + 8)
	for _, r := range instanceID {
		switch {
		case r == partitionKeyEscape:
			b.WriteString("^^")
		case r == '/':
			b.WriteString("^0")
		case r == '\\':
			b.WriteString("^1")
		case r == '#':
			b.WriteString("^2")
		case r == '?':
			b.WriteString("^3")
		case isKeyControlChar(r):
			b.WriteRune(partitionKeyEscape)
			b.WriteRune(r + controlCharShift)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsPartitionKeyEscape(s string) bool {
	for _, r := range s {
		switch {
		case r == partitionKeyEscape, r == '/', r == '\\', r == '#', r == '?', isKeyControlChar(r):
			return true
		}
	}
	return false
}

func isKeyControlChar(r rune) bool { return r <= 0x1F || (r >= 0x7F && r <= 0x9F) }

// unescapePartitionKey reverses EscapePartitionKey. Like DurableTask's
// reader it shifts any other escaped character at or above U+00C0 back
// down and keeps lower ones as they are; a dangling '^' at the end (which
// no writer produces) is kept.
func unescapePartitionKey(pk string) string {
	if !strings.ContainsRune(pk, partitionKeyEscape) {
		return pk
	}
	rs := []rune(pk)
	var b strings.Builder
	b.Grow(len(pk))
	for i := 0; i < len(rs); i++ {
		if rs[i] != partitionKeyEscape || i == len(rs)-1 {
			b.WriteRune(rs[i])
			continue
		}
		i++
		switch c := rs[i]; c {
		case partitionKeyEscape:
			b.WriteRune(partitionKeyEscape)
		case '0':
			b.WriteRune('/')
		case '1':
			b.WriteRune('\\')
		case '2':
			b.WriteRune('#')
		case '3':
			b.WriteRune('?')
		default:
			if c >= controlCharShift {
				c -= controlCharShift
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

// rowKeyForSequence is a history row's key: the event's index within its
// execution as 16 uppercase hex digits (.NET's long.ToString("X16")).
func rowKeyForSequence(n int) string { return fmt.Sprintf("%016X", uint64(n)) }

// sequenceForRowKey parses a history row key written by rowKeyForSequence.
func sequenceForRowKey(rk string) (int, error) {
	if len(rk) != 16 {
		return 0, fmt.Errorf("azstorage: history row key %q is not 16 hex digits", rk)
	}
	n, err := strconv.ParseUint(rk, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("azstorage: history row key %q: %w", rk, err)
	}
	return int(n), nil
}

// odataQuote renders s as an OData string literal for a table filter:
// single-quoted, with embedded single quotes doubled.
func odataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// odataDateTime renders t as an OData datetime literal (UTC, seven
// fractional digits), e.g. datetime'2024-05-01T12:00:00.0000000Z'.
func odataDateTime(t time.Time) string {
	return "datetime'" + t.UTC().Format("2006-01-02T15:04:05.0000000Z") + "'"
}

// columnEquals is the filter "{column} eq '{value}'" with value quoted.
// The column name is written as is and must be a trusted constant.
func columnEquals(column, value string) string { return column + " eq " + odataQuote(value) }

// partitionKeyFilter is the filter selecting one instance's rows:
// "PartitionKey eq '…'" over the escaped and quoted instance ID. Pass the
// raw instance ID, never an already escaped key.
func partitionKeyFilter(instanceID string) string {
	return columnEquals("PartitionKey", EscapePartitionKey(instanceID))
}

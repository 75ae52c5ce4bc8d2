package azstorage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dotNetMinDateTime is how Newtonsoft.Json writes DateTime.MinValue, whose
// kind is Unspecified and so carries no zone designator.
const dotNetMinDateTime = "0001-01-01T00:00:00"

// formatDotNetTime formats t as Newtonsoft.Json writes a UTC DateTime:
// yyyy-MM-ddTHH:mm:ss, then a fraction of at most seven
// digits (Go's nanoseconds truncated to .NET's 100 ns ticks) with trailing
// zeros dropped, then "Z". The zero time is DateTime.MinValue,
// "0001-01-01T00:00:00". Times in other zones are converted to UTC.
func formatDotNetTime(t time.Time) string {
	if t.IsZero() {
		return dotNetMinDateTime
	}
	return formatDotNetClock(t.UTC()) + "Z"
}

// formatDotNetTimeOffset formats t as Newtonsoft.Json writes a
// DateTimeOffset: like a DateTime, but always with a numeric offset, here
// "+00:00" since t is converted to UTC.
func formatDotNetTimeOffset(t time.Time) string {
	return formatDotNetClock(t.UTC()) + "+00:00"
}

func formatDotNetClock(t time.Time) string {
	s := t.Format("2006-01-02T15:04:05")
	if ticks := t.Nanosecond() / 100; ticks != 0 {
		frac := strconv.Itoa(ticks + 10_000_000)[1:] // seven digits
		s += "." + strings.TrimRight(frac, "0")
	}
	return s
}

// parseDotNetTime parses the date-time text .NET writers produce: ISO 8601
// with up to seven (or Go's nine) fractional digits and "Z", a numeric
// offset, or no zone designator (read as UTC, as DurableTask treats its
// UTC DateTimes). The result is in UTC; DateTime.MinValue is the zero
// time.
func parseDotNetTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05.999999999", s); err2 != nil {
			return time.Time{}, fmt.Errorf("azstorage: %q is not an ISO 8601 date and time: %w", s, err)
		}
	}
	t = t.UTC()
	if t.Equal(time.Time{}) {
		return time.Time{}, nil
	}
	return t, nil
}

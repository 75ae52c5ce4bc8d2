package history

import (
	"strconv"
	"strings"
	"time"
)

// FormatTime formats a UTC time the way .NET's Newtonsoft.Json writes a
// DateTime: yyyy-MM-ddTHH:mm:ss, a fraction of at most 7 digits without
// trailing zeros, and Z. The zero time is DateTime.MinValue, written
// without a zone.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00"
	}
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if frac := t.Nanosecond() / 100; frac != 0 {
		s += "." + strings.TrimRight(strconv.Itoa(frac + 10_000_000)[1:], "0")
	}
	return s + "Z"
}

// ParseTime parses the times .NET writers produce: ISO 8601 with up to 7
// (or Go's 9) fractional digits, with Z, an offset, or no zone (read as UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

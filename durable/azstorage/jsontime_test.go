package azstorage

import (
	"testing"
	"time"
)

func TestFormatDotNetTime(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), "2024-05-01T12:00:00Z"},
		{time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC), "2024-05-01T12:00:00.1234567Z"}, // truncated, not rounded
		{time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC), "2024-05-01T12:00:00.1234567Z"},
		{time.Date(2024, 5, 1, 12, 0, 0, 500000000, time.UTC), "2024-05-01T12:00:00.5Z"},
		{time.Date(2024, 5, 1, 12, 0, 0, 1200, time.UTC), "2024-05-01T12:00:00.0000012Z"},
		{time.Date(2024, 5, 1, 12, 0, 0, 12000, time.UTC), "2024-05-01T12:00:00.000012Z"},
		{time.Date(2024, 5, 1, 12, 0, 0, 99, time.UTC), "2024-05-01T12:00:00Z"}, // below one tick
		{time.Date(2024, 5, 1, 21, 0, 0, 0, tokyo), "2024-05-01T12:00:00Z"},
		{time.Time{}, "0001-01-01T00:00:00"},
	} {
		if got := formatDotNetTime(c.in); got != c.want {
			t.Errorf("FormatDotNetTime(%v) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := formatDotNetTimeOffset(time.Date(2024, 5, 1, 21, 0, 0, 10000000, tokyo)); got != "2024-05-01T12:00:00.01+00:00" {
		t.Errorf("formatDotNetTimeOffset = %s", got)
	}
}

func TestParseDotNetTime(t *testing.T) {
	want := time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC)
	for _, s := range []string{
		"2024-05-01T12:00:00.1234567Z",
		"2024-05-01T12:00:00.12345670Z",
		"2024-05-01T14:00:00.1234567+02:00",
		"2024-05-01T12:00:00.1234567",
		"2024-05-01T12:00:00.1234567+00:00",
	} {
		got, err := parseDotNetTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseDotNetTime(%q) = %v, %v; want %v UTC", s, got, err, want)
		}
	}
	if got, err := parseDotNetTime("0001-01-01T00:00:00"); err != nil || !got.IsZero() {
		t.Errorf("DateTime.MinValue parsed as %v, %v", got, err)
	}
	if got, err := parseDotNetTime("2024-05-01T12:00:00Z"); err != nil || !got.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("whole seconds parsed as %v, %v", got, err)
	}
	for _, bad := range []string{"", "yesterday", "2024-13-01T00:00:00Z", "2024-05-01"} {
		if _, err := parseDotNetTime(bad); err == nil {
			t.Errorf("ParseDotNetTime(%q) accepted", bad)
		}
	}
	// Formatting then parsing keeps every 100 ns tick.
	for _, ns := range []int{0, 100, 1234500, 999999900} {
		in := time.Date(2031, 12, 31, 23, 59, 59, ns, time.UTC)
		if back, err := parseDotNetTime(formatDotNetTime(in)); err != nil || !back.Equal(in) {
			t.Errorf("round trip of %v gave %v, %v", in, back, err)
		}
	}
}

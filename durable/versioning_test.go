package durable

import "testing"

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "1", -1}, {"1", "", 1},
		{"1.0.0", "1.0.0", 0}, {"0.9.0", "1.0.0", -1}, {"1.10", "1.9", 1}, {"1.0", "1.0.0", -1},
		{"2", "1", 1}, {"abc", "ABD", -1}, {"Beta", "beta", 0},
	}
	for _, c := range cases {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestVersioningAccepts(t *testing.T) {
	strict := Versioning{DefaultVersion: "1.0", MatchStrategy: VersionMatchStrict}
	older := Versioning{DefaultVersion: "1.0", MatchStrategy: VersionMatchCurrentOrOlder}
	none := Versioning{DefaultVersion: "1.0"}
	for _, c := range []struct {
		v    *Versioning
		ver  string
		want bool
	}{
		{&strict, "1.0", true}, {&strict, "0.9", false}, {&strict, "", false},
		{&older, "0.9", true}, {&older, "1.0", true}, {&older, "1.1", false}, {&older, "", true},
		{&none, "7", true},
	} {
		if got := c.v.accepts(c.ver); got != c.want {
			t.Errorf("%+v accepts %q = %v, want %v", *c.v, c.ver, got, c.want)
		}
	}
	if s, ok := ParseVersionMatchStrategy("currentOrOlder"); !ok || s != VersionMatchCurrentOrOlder {
		t.Error("ParseVersionMatchStrategy")
	}
	if _, ok := ParseVersionFailureStrategy("later"); ok {
		t.Error("ParseVersionFailureStrategy accepted nonsense")
	}
}

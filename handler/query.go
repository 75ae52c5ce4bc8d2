package handler

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func pathUnescape(s string) (string, error) { return url.PathUnescape(s) }

// queryBool parses a boolean query parameter as .NET's bool.TryParse does
// (true/false in any case); absent gives def.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return def, fmt.Errorf("query parameter %s=%q is not a boolean (true or false)", name, v)
}

// querySeconds parses a duration given in (possibly fractional) seconds.
func querySeconds(r *http.Request, name string) (time.Duration, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 24*3600 {
		return 0, false, fmt.Errorf("query parameter %s=%q is not a number of seconds between 0 and 86400", name, v)
	}
	return time.Duration(f * float64(time.Second)), true, nil
}

package handler

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func pathUnescape(s string) (string, error) { return url.PathUnescape(s) }

// queryValue is the query parameter called name. Like the .NET collection
// Durable Functions reads, names match case-insensitively (an exact match
// wins) and the first value is taken.
func queryValue(r *http.Request, name string) string {
	q := r.URL.Query()
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// queryBool parses a boolean query parameter as .NET's bool.TryParse does
// (true or false in any case, surrounding spaces allowed; 1 and yes are
// not booleans). Absent or empty gives def; anything else is an error
// naming the parameter.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	v := queryValue(r, name)
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

// maxWait bounds the timeout and pollingInterval parameters.
const maxWait = 24 * time.Hour

// querySeconds parses a duration given in seconds, fractions allowed
// (timeout=2.5). ok is false when the parameter is absent or empty.
func querySeconds(r *http.Request, name string) (d time.Duration, ok bool, err error) {
	v := strings.TrimSpace(queryValue(r, name))
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxWait.Seconds() {
		return 0, false, fmt.Errorf("query parameter %s=%q is not a number of seconds from 0 to %d", name, v, int(maxWait.Seconds()))
	}
	return time.Duration(f * float64(time.Second)), true, nil
}

// statusQuery is what GET .../instances/{id} reads from its query.
type statusQuery struct {
	showHistory bool           // showHistory, default false
	history     historyOptions // showInput (default true), showHistoryOutput (default false)
	fail500     bool           // returnInternalServerErrorOnFailure, default false
}

// parseStatusQuery reads the status query parameters; an invalid boolean
// is an error naming its parameter.
func parseStatusQuery(r *http.Request) (statusQuery, error) {
	var q statusQuery
	var err error
	if q.showHistory, err = queryBool(r, "showHistory", false); err != nil {
		return q, err
	}
	if q.history.showOutput, err = queryBool(r, "showHistoryOutput", false); err != nil {
		return q, err
	}
	if q.history.showInput, err = queryBool(r, "showInput", true); err != nil {
		return q, err
	}
	if q.fail500, err = queryBool(r, "returnInternalServerErrorOnFailure", false); err != nil {
		return q, err
	}
	if q.history.childIDs, err = queryBool(r, "showChildInstanceIds", false); err != nil {
		return q, err
	}
	return q, nil
}

package azstorage

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/durable/history"
)

// jsonObject is a decoded JSON object (numbers as json.Number).
type jsonObject map[string]any

// lookup finds a member by exact name, or else case-insensitively, as
// Newtonsoft.Json matches member names.
func (o jsonObject) lookup(name string) (any, bool) {
	if v, ok := o[name]; ok {
		return v, true
	}
	for k, v := range o {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// memberReader reads typed members leniently from a queue JSON object or
// a table row: a missing or null member gives the type's default, and the
// representations either form uses are accepted (numbers as JSON numbers,
// json.Number, Go integers or decimal strings; DateTimes as text or
// time.Time; complex members as objects or JSON text). The first
// conversion failure is kept in err, naming the member.
type memberReader struct {
	get func(name string) (any, bool)
	err error
}

func (r *memberReader) fail(member string, err error) {
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %w", member, err)
	}
}

func (r *memberReader) value(member string) any {
	v, _ := r.get(member)
	return v
}

func (r *memberReader) string(member string) string {
	if p := r.stringPtr(member); p != nil {
		return *p
	}
	return ""
}

func (r *memberReader) stringPtr(member string) *string {
	v := r.value(member)
	if v == nil {
		return nil
	}
	s, err := textOf(v)
	r.fail(member, err)
	return &s
}

func (r *memberReader) int64(member string) int64 {
	v := r.value(member)
	if v == nil {
		return 0
	}
	n, err := int64Of(v)
	r.fail(member, err)
	return n
}

func (r *memberReader) int(member string) int {
	v := r.value(member)
	if v == nil {
		return 0
	}
	n, err := int64Of(v)
	if err == nil && (n < math.MinInt32 || n > math.MaxInt32) {
		err = fmt.Errorf("%d does not fit a 32-bit integer", n)
	}
	r.fail(member, err)
	return int(n)
}

func (r *memberReader) intPtr(member string) *int {
	if r.value(member) == nil {
		return nil
	}
	n := r.int(member)
	return &n
}

func (r *memberReader) bool(member string) bool {
	switch v := r.value(member).(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		r.fail(member, err)
		return b
	default:
		r.fail(member, fmt.Errorf("a %s is not a boolean", jsonKind(v)))
		return false
	}
}

func (r *memberReader) time(member string) time.Time {
	switch v := r.value(member).(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return v.UTC()
	case string:
		if v == "" {
			return time.Time{}
		}
		t, err := parseDotNetTime(v)
		r.fail(member, err)
		return t
	default:
		r.fail(member, fmt.Errorf("a %s is not a date and time", jsonKind(v)))
		return time.Time{}
	}
}

func (r *memberReader) timePtr(member string) *time.Time {
	if v := r.value(member); v == nil || v == "" {
		return nil
	}
	t := r.time(member)
	return &t
}

// object reads a complex member: a nested object, or (in table rows) its
// JSON text, where "null" and "" stand for null.
func (r *memberReader) object(member string) jsonObject {
	switch v := r.value(member).(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	case jsonObject:
		return v
	case string:
		if s := strings.TrimSpace(v); s == "" || s == "null" {
			return nil
		}
		o, err := parseJSONObject([]byte(v))
		r.fail(member, err)
		return o
	default:
		r.fail(member, fmt.Errorf("a %s is not an object", jsonKind(v)))
		return nil
	}
}

// stringMap reads a Dictionary<string,string> (tags), skipping "$type";
// non-string values are kept as their JSON text and null as "".
func (r *memberReader) stringMap(member string) map[string]string {
	o := r.object(member)
	if o == nil {
		return nil
	}
	out := make(map[string]string, len(o))
	for k, v := range o {
		if k == "$type" {
			continue
		}
		if v == nil {
			out[k] = ""
			continue
		}
		s, err := textOf(v)
		r.fail(member+"."+k, err)
		out[k] = s
	}
	return out
}

// eventType reads an EventType written as an integer (queues) or as its
// name (tables).
func (r *memberReader) eventType(member string) history.EventType {
	n, err := enumOf(r.value(member), func(s string) (int, error) {
		t, err := history.ParseEventType(s)
		if err != nil {
			for i := history.EventType(0); i.Valid(); i++ {
				if strings.EqualFold(i.String(), s) {
					return int(i), nil
				}
			}
		}
		return int(t), err
	})
	if err == nil && !history.EventType(n).Valid() {
		err = fmt.Errorf("%d is not an EventType", n)
	}
	r.fail(member, err)
	return history.EventType(n)
}

// status reads an OrchestrationStatus written as an integer or a name.
func (r *memberReader) status(member string) history.OrchestrationStatus {
	n, err := enumOf(r.value(member), func(s string) (int, error) {
		st, err := history.ParseStatus(s, true)
		return int(st), err
	})
	r.fail(member, err)
	return history.OrchestrationStatus(n)
}

func enumOf(v any, parseName func(string) (int, error)) (int, error) {
	if v == nil {
		return 0, nil
	}
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
		return parseName(s)
	}
	n, err := int64Of(v)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// textOf reads a string member. Values that are not strings are kept as
// their JSON text, since payload members hold JSON text anyway.
func textOf(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return formatDotNetTime(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("a %s cannot be read as text: %w", jsonKind(v), err)
	}
	return string(b), nil
}

// int64Of reads an integer from any of its representations.
func int64Of(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", string(x))
		}
		return wholeFloat(f)
	case float64:
		return wholeFloat(x)
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("a %s is not an integer", jsonKind(v))
}

func wholeFloat(f float64) (int64, error) {
	if f != math.Trunc(f) || f < math.MinInt64 || f > math.MaxInt64 {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	return int64(f), nil
}

// jsonKind names a decoded value's kind for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int, int32, int64:
		return "number"
	case map[string]any, jsonObject:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

package azstorage

import (
	"encoding/json"
	"github.com/godurable/functions/durable/history"
	"strconv"
	"strings"
	"time"
)

// jsonWriter writes compact JSON with members in a fixed order, which
// encoding/json cannot do for maps and does not do for the .NET member
// order of the Durable Task message formats.
type jsonWriter struct {
	b     strings.Builder
	first []bool // per open object: no member written yet
}

func (w *jsonWriter) open() {
	w.b.WriteByte('{')
	w.first = append(w.first, true)
}

func (w *jsonWriter) close() {
	w.b.WriteByte('}')
	w.first = w.first[:len(w.first)-1]
}

func (w *jsonWriter) key(k string) {
	if len(w.first) == 0 {
		return // a top-level value: no member name
	}
	if !w.first[len(w.first)-1] {
		w.b.WriteByte(',')
	}
	w.first[len(w.first)-1] = false
	w.str(k)
	w.b.WriteByte(':')
}

func (w *jsonWriter) str(s string) {
	b, _ := json.Marshal(s)
	w.b.Write(b)
}

func (w *jsonWriter) String(k, v string) { w.key(k); w.str(v) }

func (w *jsonWriter) StringPtr(k string, v *string) {
	w.key(k)
	if v == nil {
		w.b.WriteString("null")
		return
	}
	w.str(*v)
}

// NullableString writes "" as null (for ids that .NET leaves null).
func (w *jsonWriter) NullableString(k, v string) {
	if v == "" {
		w.StringPtr(k, nil)
		return
	}
	w.String(k, v)
}

func (w *jsonWriter) Int(k string, v int64) { w.key(k); w.b.WriteString(strconv.FormatInt(v, 10)) }

func (w *jsonWriter) IntPtr(k string, v *int) {
	if v == nil {
		w.Null(k)
		return
	}
	w.Int(k, int64(*v))
}

func (w *jsonWriter) Bool(k string, v bool) { w.key(k); w.b.WriteString(strconv.FormatBool(v)) }

func (w *jsonWriter) Null(k string) { w.key(k); w.b.WriteString("null") }

func (w *jsonWriter) Time(k string, t time.Time) { w.key(k); w.str(FormatDotNetTime(t)) }

func (w *jsonWriter) TimePtr(k string, t *time.Time) {
	if t == nil {
		w.Null(k)
		return
	}
	w.Time(k, *t)
}

// Raw writes a value already encoded as JSON.
func (w *jsonWriter) Raw(k string, v []byte) { w.key(k); w.b.Write(v) }

// FormatDotNetTime formats a time as .NET writes a DateTime.
func FormatDotNetTime(t time.Time) string { return history.FormatTime(t) }

// ParseDotNetTime parses a .NET DateTime.
func ParseDotNetTime(s string) (time.Time, error) { return history.ParseTime(s) }

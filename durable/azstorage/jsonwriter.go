package azstorage

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// jsonWriter writes compact JSON with members in exactly the order they
// are written, which the .NET formats need and encoding/json cannot give
// for maps. Strings are escaped as Newtonsoft.Json's default settings
// escape them (see appendNewtonsoftString).
type jsonWriter struct {
	buf []byte
	// open has one entry per open object or array: true until its first
	// member or element is written.
	open      []bool
	afterName bool
}

// bytes is the JSON written so far.
func (w *jsonWriter) bytes() []byte { return w.buf }

// sep writes the comma that precedes a member or element, if one is due.
func (w *jsonWriter) sep() {
	if w.afterName {
		w.afterName = false
		return
	}
	if n := len(w.open); n > 0 {
		if !w.open[n-1] {
			w.buf = append(w.buf, ',')
		}
		w.open[n-1] = false
	}
}

// name starts an object member; the next value written is its value.
func (w *jsonWriter) name(k string) {
	w.sep()
	w.buf = appendNewtonsoftString(w.buf, k)
	w.buf = append(w.buf, ':')
	w.afterName = true
}

func (w *jsonWriter) beginObject() {
	w.sep()
	w.buf = append(w.buf, '{')
	w.open = append(w.open, true)
}

func (w *jsonWriter) endObject() {
	w.open = w.open[:len(w.open)-1]
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) beginArray() {
	w.sep()
	w.buf = append(w.buf, '[')
	w.open = append(w.open, true)
}

func (w *jsonWriter) endArray() {
	w.open = w.open[:len(w.open)-1]
	w.buf = append(w.buf, ']')
}

func (w *jsonWriter) stringValue(s string) {
	w.sep()
	w.buf = appendNewtonsoftString(w.buf, s)
}

func (w *jsonWriter) nullValue() {
	w.sep()
	w.buf = append(w.buf, "null"...)
}

func (w *jsonWriter) intValue(n int64) {
	w.sep()
	w.buf = strconv.AppendInt(w.buf, n, 10)
}

func (w *jsonWriter) boolValue(b bool) {
	w.sep()
	w.buf = strconv.AppendBool(w.buf, b)
}

// Member shorthands.

func (w *jsonWriter) str(k, v string) { w.name(k); w.stringValue(v) }

func (w *jsonWriter) strPtr(k string, v *string) {
	w.name(k)
	if v == nil {
		w.nullValue()
		return
	}
	w.stringValue(*v)
}

// strOrNull writes "" as null, for .NET strings that are null by default.
func (w *jsonWriter) strOrNull(k, v string) {
	w.name(k)
	if v == "" {
		w.nullValue()
		return
	}
	w.stringValue(v)
}

func (w *jsonWriter) null(k string) { w.name(k); w.nullValue() }

func (w *jsonWriter) int(k string, v int64) { w.name(k); w.intValue(v) }

func (w *jsonWriter) intPtr(k string, v *int) {
	w.name(k)
	if v == nil {
		w.nullValue()
		return
	}
	w.intValue(int64(*v))
}

func (w *jsonWriter) bool(k string, v bool) { w.name(k); w.boolValue(v) }

// anyValue writes a loosely typed value (FailureDetails.Properties):
// JSON primitives, json.Number, string-keyed maps (keys sorted) and
// slices. Anything else goes through encoding/json.
func (w *jsonWriter) anyValue(v any) error {
	switch x := v.(type) {
	case nil:
		w.nullValue()
	case string:
		w.stringValue(x)
	case bool:
		w.boolValue(x)
	case int:
		w.intValue(int64(x))
	case int32:
		w.intValue(int64(x))
	case int64:
		w.intValue(x)
	case float64:
		w.floatValue(x)
	case float32:
		w.floatValue(float64(x))
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return fmt.Errorf("invalid number %q", string(x))
		}
		w.sep()
		w.buf = append(w.buf, x...)
	case time.Time:
		w.stringValue(formatDotNetTime(x))
	case map[string]any:
		w.beginObject()
		for _, k := range sortedKeys(x) {
			w.name(k)
			if err := w.anyValue(x[k]); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		w.endObject()
	case map[string]string:
		w.beginObject()
		for _, k := range sortedKeys(x) {
			w.str(k, x[k])
		}
		w.endObject()
	case []any:
		w.beginArray()
		for i, e := range x {
			if err := w.anyValue(e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		w.endArray()
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("value of type %s: %w", reflect.TypeOf(v), err)
		}
		w.sep()
		w.buf = append(w.buf, b...)
	}
	return nil
}

// floatValue writes a double as Newtonsoft does: the shortest round-trip
// text with ".0" added to whole numbers, and NaN and the infinities as the
// strings "NaN", "Infinity" and "-Infinity" (FloatFormatHandling.String).
func (w *jsonWriter) floatValue(f float64) {
	switch {
	case math.IsNaN(f):
		w.stringValue("NaN")
		return
	case math.IsInf(f, 1):
		w.stringValue("Infinity")
		return
	case math.IsInf(f, -1):
		w.stringValue("-Infinity")
		return
	}
	s := dotNetRoundTrip(f)
	if f == math.Trunc(f) && !strings.ContainsAny(s, ".E") {
		s += ".0"
	}
	w.sep()
	w.buf = append(w.buf, s...)
}

// dotNetRoundTrip formats a finite double as .NET's double.ToString("R")
// does: the shortest digits that round-trip, in plain notation for
// decimal exponents -5 < x < 15 and otherwise as d.dddE+xx.
func dotNetRoundTrip(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±xx
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp > -5 && exp < 15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%sE%s%02d", mant, sign, exp)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendNewtonsoftString appends s as a quoted JSON string escaped the way
// Newtonsoft.Json's default StringEscapeHandling does: '"' and '\' and the
// control characters below U+0020 (\b \t \n \f \r in short form, the rest
// as \u00xx in lowercase hex), plus U+0085, U+2028 and U+2029; everything
// else (including <, >, &, single quotes and non-ASCII) is written as is.
// Invalid UTF-8 is written as U+FFFD.
func appendNewtonsoftString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"':
				buf = append(buf, `\"`...)
			case '\\':
				buf = append(buf, `\\`...)
			case '\b':
				buf = append(buf, `\b`...)
			case '\t':
				buf = append(buf, `\t`...)
			case '\n':
				buf = append(buf, `\n`...)
			case '\f':
				buf = append(buf, `\f`...)
			case '\r':
				buf = append(buf, `\r`...)
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\uFFFD"...)
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

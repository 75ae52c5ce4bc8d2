package handler

import (
	"bytes"
	"encoding/json"
	"strings"
)

// member is one name/value of an ordered JSON object.
type member struct {
	name  string
	value any
}

// object is a JSON object that keeps its members in order, edited the way
// Newtonsoft's JObject is: set replaces a member where it stands or
// appends a new one at the end, remove deletes one. Durable Functions
// builds its historyEvents by editing JObjects, so their member order
// follows from these two rules.
type object []member

// set gives name the value v, in place if the member exists, else at the end.
func (o *object) set(name string, v any) {
	for i := range *o {
		if (*o)[i].name == name {
			(*o)[i].value = v
			return
		}
	}
	*o = append(*o, member{name, v})
}

// remove deletes the member called name, if there is one.
func (o *object) remove(name string) {
	for i := range *o {
		if (*o)[i].name == name {
			*o = append((*o)[:i], (*o)[i+1:]...)
			return
		}
	}
}

// has reports whether the object has a member called name.
func (o object) has(name string) bool {
	for _, m := range o {
		if m.name == name {
			return true
		}
	}
	return false
}

// MarshalJSON writes the members in order, without HTML escaping.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalNoEscape(m.name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalNoEscape(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// jsonValue turns stored payload text into a JSON value as Durable
// Functions' ParseToJToken does: nil is null, surrounding whitespace is
// ignored, valid JSON stands for itself and anything else (e.g. a
// terminate reason) becomes a JSON string.
func jsonValue(s *string) json.RawMessage {
	if s == nil {
		return json.RawMessage("null")
	}
	t := strings.TrimSpace(*s)
	if t != "" && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	b, _ := marshalNoEscape(t)
	return b
}

package handler

import (
	"bytes"
	"encoding/json"
)

// member is one name/value of an ordered JSON object.
type member struct {
	name  string
	value any
}

// object is a JSON object that keeps its members in order.
type object []member

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.name)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonValue turns stored text into a JSON value: valid JSON as itself,
// anything else as a JSON string, nil as null.
func jsonValue(s *string) json.RawMessage {
	if s == nil {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(*s)) {
		return json.RawMessage(*s)
	}
	b, _ := json.Marshal(*s)
	return b
}

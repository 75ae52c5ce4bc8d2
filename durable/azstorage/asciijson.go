package azstorage

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// asciiBodyPolicy writes every non-ASCII character of a single-entity
// Table service request body as a JSON \uXXXX escape, as the .NET Table
// SDK's JSON writer does. Non-ASCII text can only occur inside JSON
// strings, so the entity is unchanged. It keeps multi-byte characters out
// of the raw byte stream, which a service reading the body in chunks could
// split and corrupt: Azurite decodes each 64 KiB chunk of an entity
// request on its own, so a row column that straddles a chunk boundary with
// a three-byte character in the way came back with U+FFFD in it. Batch
// (transaction) bodies are left alone: Azurite reads them whole, and the
// history writer sizes its batches by their UTF-8 length.
type asciiBodyPolicy struct{}

func (asciiBodyPolicy) Do(req *policy.Request) (*http.Response, error) {
	if body := req.Body(); body != nil {
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("azstorage: read table request body: %w", err)
		}
		if esc, changed := escapeNonASCII(data); changed {
			if err := req.SetBody(streaming.NopCloser(bytes.NewReader(esc)), req.Raw().Header.Get("Content-Type")); err != nil {
				return nil, fmt.Errorf("azstorage: table request body: %w", err)
			}
		} else if err := req.RewindBody(); err != nil {
			return nil, fmt.Errorf("azstorage: rewind table request body: %w", err)
		}
	}
	return req.Next()
}

// escapeNonASCII replaces each non-ASCII character of a JSON text with
// its \uXXXX escape (a surrogate pair beyond U+FFFF; invalid bytes become
// \ufffd). changed is false when data is ASCII already.
func escapeNonASCII(data []byte) (out []byte, changed bool) {
	i := 0
	for i < len(data) && data[i] < utf8.RuneSelf {
		i++
	}
	if i == len(data) {
		return data, false
	}
	var b bytes.Buffer
	b.Grow(len(data) + len(data)/2)
	b.Write(data[:i])
	for i < len(data) {
		c := data[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		i += size
		if r > 0xFFFF {
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		} else {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.Bytes(), true
}

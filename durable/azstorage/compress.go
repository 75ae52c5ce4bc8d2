package azstorage

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// gzipBytes compresses data as the large-message blobs hold it: a plain
// RFC 1952 gzip stream.
func gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("azstorage: gzip: %w", err)
	}
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("azstorage: gzip %d bytes: %w", len(data), err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("azstorage: gzip %d bytes: %w", len(data), err)
	}
	return buf.Bytes(), nil
}

// gunzipBytes decompresses a large-message blob's content.
func gunzipBytes(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("azstorage: gunzip: not gzip data: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("azstorage: gunzip: %w", err)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("azstorage: gunzip: %w", err)
	}
	return out, nil
}

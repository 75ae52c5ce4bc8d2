// Package testsupport holds small helpers that the tests of several
// packages share.
package testsupport

import (
	"bytes"
	"sync"
)

// SyncBuffer collects output written from other goroutines (a child
// process's, a logger's); tests read it while it is still written to.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

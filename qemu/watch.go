package qemu

import (
	"strings"
	"sync"
)

// Watch is a Config.Console that keeps what the guest writes and closes
// Seen once the output contains Want: for tests and tools that must act
// while the guest runs (a service is listening, say).
type Watch struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
}

// NewWatch returns a Watch for want.
func NewWatch(want string) *Watch {
	return &Watch{want: want, seen: make(chan struct{})}
}

// Seen is closed when the output first contains the wanted text.
func (w *Watch) Seen() <-chan struct{} { return w.seen }

func (w *Watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want != "" && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
		w.want = ""
	}
	return len(p), nil
}

// String is the output so far.
func (w *Watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

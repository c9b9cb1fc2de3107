package vfs

import "testing"

// TestOpenFiles: the system's count of open files (file-nr's first
// field) grows with each file made and falls only at its last reference's
// release, not at a dup's close.
func TestOpenFiles(t *testing.T) {
	n := OpenFiles()
	a, b := NewEventFD(0, 0), NewEpoll()
	if got := OpenFiles(); got != n+2 {
		t.Fatalf("after two new files: %d open, want %d", got, n+2)
	}
	a.IncRef()
	a.DecRef()
	if got := OpenFiles(); got != n+2 {
		t.Errorf("after a dup's close: %d open, want %d", got, n+2)
	}
	a.DecRef()
	b.DecRef()
	if got := OpenFiles(); got != n {
		t.Errorf("after the last closes: %d open, want %d", got, n)
	}
}

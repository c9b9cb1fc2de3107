package vfs

import (
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestEventfdIDs: an eventfd's fdinfo ID is the lowest number free, as
// Linux's eventfd_ida gives them: one closed is given to the next.
func TestEventfdIDs(t *testing.T) {
	a, b, c := NewEventFD(0, 0), NewEventFD(0, 0), NewEventFD(3, linux.EfdSemaphore)
	id := func(f *File) int { return f.impl.(*eventFD).id }
	if id(b) != id(a)+1 || id(c) != id(b)+1 {
		t.Fatalf("ids %d %d %d, want consecutive", id(a), id(b), id(c))
	}
	want := id(b)
	b.DecRef()
	d := NewEventFD(0, 0)
	if id(d) != want {
		t.Errorf("after closing id %d the next eventfd has %d", want, id(d))
	}
	text := string(fdInfo(c, true))
	for _, l := range []string{"pos:\t0\n", "flags:\t02000002\n", "eventfd-count:                3\n", "eventfd-semaphore: 1\n"} {
		if !strings.Contains(text, l) {
			t.Errorf("fdinfo lacks %q:\n%s", l, text)
		}
	}
	a.DecRef()
	c.DecRef()
	d.DecRef()
}

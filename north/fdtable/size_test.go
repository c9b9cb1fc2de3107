package fdtable

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestTableSize: the table's room (Linux's max_fds) starts at 64, grows
// to the next power of two when a descriptor is installed past it, never
// shrinks, and a fork gets room for the open descriptors only.
func TestTableSize(t *testing.T) {
	e := newEnv(t)
	tab := e.f.Table()
	if got := tab.Size(); got != 64 {
		t.Fatalf("new table: room %d, want 64", got)
	}
	for _, c := range []struct{ fd, want int32 }{{63, 64}, {64, 128}, {127, 128}, {128, 256}, {300, 512}} {
		if r := e.f.Dup2(0, c.fd); r != int64(c.fd) {
			t.Fatalf("Dup2(0, %d) = %d", c.fd, r)
		}
		if got := tab.Size(); got != int(c.want) {
			t.Errorf("after dup2 to %d: room %d, want %d", c.fd, got, c.want)
		}
	}
	if got := tab.Fork().Size(); got != 512 {
		t.Errorf("fork with descriptor 300 open: room %d, want 512", got)
	}
	e.f.Close(300)
	e.f.Close(128)
	if got := tab.Size(); got != 512 {
		t.Errorf("after closing: room %d, want 512 (it never shrinks)", got)
	}
	if got := tab.Fork().Size(); got != 128 {
		t.Errorf("fork with descriptor 127 the highest: room %d, want 128", got)
	}
	for _, fd := range []int32{127, 64, 63} {
		e.f.Close(fd)
	}
	if got := tab.Fork().Size(); got != 64 {
		t.Errorf("fork with low descriptors only: room %d, want 64", got)
	}
}

// TestSelectPastTable: select ignores a bit set past the table's room, and
// refuses a closed descriptor within it (fs/select.c).
func TestSelectPastTable(t *testing.T) {
	e := newEnv(t)
	set := make([]byte, 16)
	binary.LittleEndian.PutUint64(set[8:], 1<<(100-64))
	rd := e.put(set)
	tv := e.put(make([]byte, 16)) // zero timeout
	if r := e.f.Select(e.m, nil, 101, rd, 0, 0, tv); r != 0 {
		t.Errorf("select on descriptor 100 past a 64-room table = %d, want 0", r)
	}
	e.f.Dup2(0, 100)
	e.f.Close(100)
	rd = e.put(set)
	if r := e.f.Select(e.m, nil, 101, rd, 0, 0, tv); r != neg(linux.EBADF) {
		t.Errorf("select on closed descriptor 100 in a 128-room table = %d, want EBADF", r)
	}
}

package mem

import "testing"

func TestFakeBounds(t *testing.T) {
	m := NewFake(0x1000, 0x2000)
	if err := m.CopyOut(0x1000, []byte("abc\x00")); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadString(m, 0x1000, 64); err != nil || s != "abc" {
		t.Fatalf("ReadString = %q, %v", s, err)
	}
	for _, c := range []struct {
		addr uint64
		n    int
	}{{0xfff, 1}, {0x2fff, 2}, {0x3000, 1}, {^uint64(0), 2}} {
		if err := m.CopyIn(c.addr, make([]byte, c.n)); err != ErrFault {
			t.Errorf("CopyIn(%#x, %d) = %v, want ErrFault", c.addr, c.n, err)
		}
	}
	if err := WriteUint64(m, 0x1ff8, 42); err != nil {
		t.Fatal(err)
	}
	if v, err := ReadUint64(m, 0x1ff8); err != nil || v != 42 {
		t.Fatalf("ReadUint64 = %d, %v", v, err)
	}
	// A string running off the end of memory faults; one without a NUL
	// within max is too long.
	for i := range m.Data {
		m.Data[i] = 'x'
	}
	if _, err := ReadString(m, 0x2ff0, 4096); err != ErrFault {
		t.Errorf("ReadString off the end = %v, want ErrFault", err)
	}
	if _, err := ReadString(m, 0x1000, 100); err != ErrNameTooLong {
		t.Errorf("ReadString without NUL = %v, want ErrNameTooLong", err)
	}
}

func TestFakeSpace(t *testing.T) {
	s := NewFakeSpace(0x10000, 0x100000)
	a, err := s.Map(0x20000, 3*PageSize, Read, true)
	if err != nil || a != 0x20000 {
		t.Fatalf("Map fixed = %#x, %v", a, err)
	}
	if err := s.CopyOut(0x20000, []byte{1}); err != ErrFault {
		t.Errorf("CopyOut to read-only = %v, want ErrFault", err)
	}
	if err := s.Load(0x20ffe, []byte{1, 2, 3, 4}); err != nil {
		t.Errorf("Load across pages = %v", err)
	}
	b := make([]byte, 4)
	if err := s.CopyIn(0x20ffe, b); err != nil || b[3] != 4 {
		t.Errorf("CopyIn = %v %v", b, err)
	}
	if a, err := s.Map(0x20000, PageSize, Read|Write, false); err != nil || a == 0x20000 {
		t.Errorf("Map with busy hint = %#x, %v; want another address", a, err)
	}
	s.Unmap(0x21000, PageSize)
	if err := s.CopyIn(0x20ffe, b); err != ErrFault {
		t.Errorf("CopyIn across a hole = %v, want ErrFault", err)
	}
}

// TestHeapFramesAllocCopy: AllocCopy gives a new frame with one reference
// holding the source's bytes, which later changes to either do not share.
func TestHeapFramesAllocCopy(t *testing.T) {
	var h HeapFrames
	var src [PageSize]byte
	for i := range src {
		src[i] = byte(i*7 + 1)
	}
	f, err := h.AllocCopy(&src)
	if err != nil {
		t.Fatal(err)
	}
	if *h.Bytes(f) != src {
		t.Fatal("the frame does not hold the source page")
	}
	src[0]++
	if h.Bytes(f)[0] == src[0] {
		t.Error("the frame changed with its source")
	}
	h.Free(f)
	if h.InUse() != 0 {
		t.Errorf("%d frames in use after the only reference was dropped", h.InUse())
	}
	h.Limit = 1
	g, _ := h.Alloc()
	if _, err := h.AllocCopy(&src); err != ErrNoMemory {
		t.Errorf("AllocCopy past the limit = %v, want ErrNoMemory", err)
	}
	h.Free(g)
}

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

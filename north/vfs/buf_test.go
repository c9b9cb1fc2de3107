package vfs

import (
	"bytes"
	"testing"

	"github.com/cocoon-vm/cocoon/north/mem"
)

// TestBufOneBufferMatchesIovec checks that a Buf over one buffer (read,
// write: kept without a slice) behaves as the same bytes given as an
// iovec list (readv, writev) through DropFirst, TakeFirst, Len, CopyIn
// and CopyOut, including empty buffers, cuts past the end and a buffer
// that runs past mapped memory (the bytes before the bad page count).
func TestBufOneBufferMatchesIovec(t *testing.T) {
	const base, size = 0x10000, 3 * mem.PageSize
	m := mem.NewFake(base, size)
	for i := range m.Data {
		m.Data[i] = byte(i * 7)
	}
	cases := []struct{ addr, n uint64 }{
		{base, 0}, {base, 1}, {base + 100, 5000}, {base + size - 10, 10},
		{base + size - 10, 100}, // runs off the end: a partial copy, then a fault
		{base + 2*mem.PageSize - 3, mem.PageSize},
	}
	cuts := []int64{-1, 0, 1, 7, 4096, 5000, 1 << 40}
	for _, c := range cases {
		one := NewBuf(m, c.addr, c.n)
		var iov Buf
		if c.n == 0 {
			iov = NewBufIovec(m, nil)
		} else {
			iov = NewBufIovec(m, []Iovec{{c.addr, c.n}})
		}
		check := func(what string, a, b Buf) {
			t.Helper()
			if a.Len() != b.Len() {
				t.Fatalf("%+v %s: Len %d, iovec Len %d", c, what, a.Len(), b.Len())
			}
			for _, k := range []int{0, 1, 3, 9000} {
				pa, pb := make([]byte, k), make([]byte, k)
				na, ea := a.CopyIn(pa)
				nb, eb := b.CopyIn(pb)
				if na != nb || (ea == nil) != (eb == nil) || !bytes.Equal(pa, pb) {
					t.Fatalf("%+v %s: CopyIn(%d) = %d, %v; iovec %d, %v", c, what, k, na, ea, nb, eb)
				}
				src := bytes.Repeat([]byte{byte(k + 1)}, k)
				save := bytes.Clone(m.Data)
				na, ea = a.CopyOut(src)
				after := bytes.Clone(m.Data)
				copy(m.Data, save)
				nb, eb = b.CopyOut(src)
				if na != nb || (ea == nil) != (eb == nil) || !bytes.Equal(after, m.Data) {
					t.Fatalf("%+v %s: CopyOut(%d) = %d, %v; iovec %d, %v", c, what, k, na, ea, nb, eb)
				}
				copy(m.Data, save)
			}
		}
		check("whole", one, iov)
		for _, k := range cuts {
			check("DropFirst", one.DropFirst(k), iov.DropFirst(k))
			check("TakeFirst", one.TakeFirst(k), iov.TakeFirst(k))
			check("DropFirst+TakeFirst", one.DropFirst(k).TakeFirst(3), iov.DropFirst(k).TakeFirst(3))
		}
	}
}

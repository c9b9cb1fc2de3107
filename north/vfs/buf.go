package vfs

import (
	"github.com/cocoon-vm/cocoon/north/mem"
)

// MaxRW is the most bytes one read or write transfers (MAX_RW_COUNT,
// include/linux/fs.h: INT_MAX rounded down to a page).
const MaxRW = 0x7ffff000

// Iovec is one struct iovec (include/uapi/linux/uio.h): base and length.
type Iovec struct {
	Base, Len uint64
}

// Buf is application memory that a read fills or a write drains: one
// buffer, or the iovecs of readv(2) and writev(2), in order. It is a value;
// DropFirst returns the rest.
type Buf struct {
	m mem.Memory
	// one is the buffer while iov is nil (read(2), write(2): no slice to
	// allocate per call); otherwise iov holds the iovecs and one is unused.
	one Iovec
	iov []Iovec
}

// NewBuf returns the n bytes at addr in m.
func NewBuf(m mem.Memory, addr, n uint64) Buf {
	if n == 0 {
		return Buf{m: m}
	}
	return Buf{m: m, one: Iovec{addr, min(n, MaxRW)}}
}

// NewBufIovec returns the bytes iov describes in m, in order, limited to
// MaxRW in total as Linux limits them. Empty iovecs are dropped.
func NewBufIovec(m mem.Memory, iov []Iovec) Buf {
	b := Buf{m: m}
	left := uint64(MaxRW)
	for _, v := range iov {
		if v.Len == 0 {
			continue
		}
		if v.Len > left {
			v.Len = left
		}
		b.iov = append(b.iov, v)
		left -= v.Len
		if left == 0 {
			break
		}
	}
	return b
}

// BytesBuf returns a Buf over p, for callers that hold bytes in Go memory
// (tests, or the kernel reading a file for itself).
func BytesBuf(p []byte) Buf {
	return NewBuf(&mem.Fake{Data: p}, 0, uint64(len(p)))
}

// Len returns the number of bytes in b.
func (b Buf) Len() int64 {
	if b.iov == nil {
		return int64(b.one.Len)
	}
	var n int64
	for _, v := range b.iov {
		n += int64(v.Len)
	}
	return n
}

// DropFirst returns b without its first n bytes.
func (b Buf) DropFirst(n int64) Buf {
	if b.iov == nil {
		d := min(uint64(max(n, 0)), b.one.Len)
		b.one.Base += d
		b.one.Len -= d
		return b
	}
	for len(b.iov) > 0 && n > 0 {
		if uint64(n) < b.iov[0].Len {
			iov := make([]Iovec, len(b.iov))
			copy(iov, b.iov)
			iov[0].Base += uint64(n)
			iov[0].Len -= uint64(n)
			return Buf{m: b.m, iov: iov}
		}
		n -= int64(b.iov[0].Len)
		b.iov = b.iov[1:]
	}
	return b
}

// TakeFirst returns the first n bytes of b.
func (b Buf) TakeFirst(n int64) Buf {
	if b.iov == nil {
		b.one.Len = min(uint64(max(n, 0)), b.one.Len)
		return b
	}
	out := Buf{m: b.m}
	for _, v := range b.iov {
		if n <= 0 {
			break
		}
		if uint64(n) < v.Len {
			v.Len = uint64(n)
		}
		out.iov = append(out.iov, v)
		n -= int64(v.Len)
	}
	return out
}

// CopyOut copies src to the start of b, as much as fits, and returns how
// many bytes it copied. At a bad address it stops and returns the count
// so far with mem.ErrFault.
func (b Buf) CopyOut(src []byte) (int, error) {
	done := 0
	if b.iov == nil {
		if n := min(uint64(len(src)), b.one.Len); n > 0 {
			err := copyChunks(b.one.Base, src[:n], b.m.CopyOut, &done)
			return done, err
		}
		return 0, nil
	}
	for _, v := range b.iov {
		if done == len(src) {
			break
		}
		n := len(src) - done
		if uint64(n) > v.Len {
			n = int(v.Len)
		}
		if err := copyChunks(v.Base, src[done:done+n], b.m.CopyOut, &done); err != nil {
			return done, err
		}
	}
	return done, nil
}

// CopyIn copies the start of b into dst, as much as fits, and returns how
// many bytes it copied. At a bad address it stops and returns the count
// so far with mem.ErrFault.
func (b Buf) CopyIn(dst []byte) (int, error) {
	done := 0
	if b.iov == nil {
		if n := min(uint64(len(dst)), b.one.Len); n > 0 {
			err := copyChunks(b.one.Base, dst[:n], b.m.CopyIn, &done)
			return done, err
		}
		return 0, nil
	}
	for _, v := range b.iov {
		if done == len(dst) {
			break
		}
		n := len(dst) - done
		if uint64(n) > v.Len {
			n = int(v.Len)
		}
		if err := copyChunks(v.Base, dst[done:done+n], b.m.CopyIn, &done); err != nil {
			return done, err
		}
	}
	return done, nil
}

// copyChunks copies p at addr and adds the bytes copied to *done. If the
// whole copy faults it retries a page at a time, so that the bytes before
// the bad page still count, as they do on Linux.
func copyChunks(addr uint64, p []byte, copyFn func(uint64, []byte) error, done *int) error {
	if copyFn(addr, p) == nil {
		*done += len(p)
		return nil
	}
	for len(p) > 0 {
		n := int(mem.PageSize - addr%mem.PageSize)
		if n > len(p) {
			n = len(p)
		}
		if err := copyFn(addr, p[:n]); err != nil {
			return mem.ErrFault
		}
		*done += n
		addr += uint64(n)
		p = p[n:]
	}
	return nil
}

package fdtable

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

func TestReadWriteErrors(t *testing.T) {
	e := newEnv(t)
	ro := e.open("/etc/hosts", linux.ORdonly, 0)
	wo := e.open("/tmp/w", linux.OCreat|linux.OWronly, 0o644)
	dir := e.open("/etc", linux.ORdonly, 0)
	buf := e.alloc(64)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"read bad fd", e.f.Read(e.m, nil, 42, buf, 4), neg(linux.EBADF)},
		{"read negative fd", e.f.Read(e.m, nil, -1, buf, 4), neg(linux.EBADF)},
		{"write bad fd", e.f.Write(e.m, nil, 42, buf, 4), neg(linux.EBADF)},
		{"read write-only", e.f.Read(e.m, nil, wo, buf, 4), neg(linux.EBADF)},
		{"write read-only", e.f.Write(e.m, nil, ro, buf, 4), neg(linux.EBADF)},
		{"read directory", e.f.Read(e.m, nil, dir, buf, 4), neg(linux.EISDIR)},
		{"read bad buffer", e.f.Read(e.m, nil, ro, badAddr, 4), neg(linux.EFAULT)},
		{"write bad buffer", e.f.Write(e.m, nil, wo, badAddr, 4), neg(linux.EFAULT)},
		{"read zero bytes", e.f.Read(e.m, nil, ro, badAddr, 0), 0},
		{"read zero bytes write-only", e.f.Read(e.m, nil, wo, buf, 0), neg(linux.EBADF)},
		// A huge count with a small valid buffer copies what fits before
		// the end of memory; nothing allocates the count.
		{"read huge count", e.f.Read(e.m, nil, ro, memBase+memSize-5, math.MaxUint64), 5},
		{"write huge count", e.f.Write(e.m, nil, wo, memBase+memSize-5, 1<<62), 5},
		{"pread negative offset", e.f.Pread64(e.m, ro, buf, 4, -1), neg(linux.EINVAL)},
		{"pwrite negative offset", e.f.Pwrite64(e.m, wo, buf, 4, -1), neg(linux.EINVAL)},
		{"pread bad fd", e.f.Pread64(e.m, 99, buf, 4, 0), neg(linux.EBADF)},
		{"pread console", e.f.Pread64(e.m, 0, buf, 4, 0), neg(linux.ESPIPE)},
		{"pwrite past the largest offset", e.f.Pwrite64(e.m, wo, buf, 4, math.MaxInt64), neg(linux.EFBIG)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestPartialFault(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/etc/hosts", linux.ORdonly, 0)
	// The buffer runs off the end of memory after 3 bytes: Linux returns
	// the bytes copied before the fault, and the offset moves by that.
	if n := e.f.Read(e.m, nil, fd, memBase+memSize-3, 10); n != 3 {
		t.Errorf("Read into a buffer with 3 good bytes = %d, want 3", n)
	}
	if got, _ := e.read(fd, 6); got != ".0.0.1" {
		t.Errorf("next read = %q, want %q", got, ".0.0.1")
	}
}

func TestLseek(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/etc/hosts", linux.ORdonly, 0) // 20 bytes
	p := e.alloc(8)
	e.f.Pipe2(e.m, p, 0)
	pipeFD := int32(e.u32(p))
	dir := e.open("/etc", linux.ORdonly, 0)
	for _, c := range []struct {
		fd     int32
		off    int64
		whence uint32
		want   int64
	}{
		{fd, 5, linux.SeekSet, 5},
		{fd, 3, linux.SeekCur, 8},
		{fd, -2, linux.SeekEnd, 18},
		{fd, 100, linux.SeekSet, 100},
		{fd, -1, linux.SeekSet, neg(linux.EINVAL)},
		{fd, -200, linux.SeekCur, neg(linux.EINVAL)},
		{fd, math.MaxInt64, linux.SeekEnd, neg(linux.EINVAL)},
		{fd, 0, 77, neg(linux.EINVAL)},
		{fd, 4, linux.SeekData, 4},
		{fd, 4, linux.SeekHole, 20},
		{fd, 20, linux.SeekData, neg(linux.ENXIO)},
		{pipeFD, 0, linux.SeekCur, neg(linux.ESPIPE)},
		{0, 0, linux.SeekCur, neg(linux.ESPIPE)},
		{99, 0, linux.SeekSet, neg(linux.EBADF)},
		{dir, 0, linux.SeekEnd, neg(linux.EINVAL)},
		{dir, 1, linux.SeekSet, 1},
	} {
		if got := e.f.Lseek(c.fd, c.off, c.whence); got != c.want {
			t.Errorf("Lseek(%d, %d, %d) = %d, want %d", c.fd, c.off, c.whence, got, c.want)
		}
	}
	e.f.Lseek(fd, 10, linux.SeekSet)
	if got, _ := e.read(fd, 100); got != "localhost\n" {
		t.Errorf("read after lseek = %q", got)
	}
}

func TestPreadPwrite(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/p", linux.OCreat|linux.ORdwr, 0o644)
	e.write(fd, "0123456789")
	if n := e.f.Pwrite64(e.m, fd, e.put([]byte("ab")), 2, 3); n != 2 {
		t.Fatalf("Pwrite64 = %d", n)
	}
	buf := e.alloc(16)
	if n := e.f.Pread64(e.m, fd, buf, 16, 2); n != 8 || string(e.get(buf, 8)) != "2ab56789" {
		t.Errorf("Pread64 = %d %q", n, e.get(buf, 8))
	}
	if off := e.f.Lseek(fd, 0, linux.SeekCur); off != 10 {
		t.Errorf("offset after pread/pwrite = %d, want 10", off)
	}
	// pwrite past the end leaves a hole of zeros.
	e.f.Pwrite64(e.m, fd, e.put([]byte("Z")), 1, 20)
	if got := e.cat("/tmp/p"); got != "012ab56789\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00Z" {
		t.Errorf("after pwrite past the end = %q", got)
	}
	// A sparse file far out takes no memory.
	if n := e.f.Pwrite64(e.m, fd, e.put([]byte("end")), 3, 1<<40); n != 3 {
		t.Errorf("Pwrite64 at 1 TiB = %d", n)
	}
	st, _ := e.stat("/tmp/p", 0)
	if st.Size != 1<<40+3 {
		t.Errorf("size = %d", st.Size)
	}
	if n := e.f.Pread64(e.m, fd, buf, 4, 1<<40-1); n != 4 || string(e.get(buf, 4)) != "\x00end" {
		t.Errorf("Pread64 at 1 TiB = %d %q", n, e.get(buf, 4))
	}
	// O_APPEND: pwrite appends too, as on Linux.
	afd := e.open("/tmp/a", linux.OCreat|linux.ORdwr|linux.OAppend, 0o644)
	e.write(afd, "xy")
	e.f.Pwrite64(e.m, afd, e.put([]byte("z")), 1, 0)
	if got := e.cat("/tmp/a"); got != "xyz" {
		t.Errorf("O_APPEND file = %q", got)
	}
}

func iovec(e *env, parts ...[2]uint64) uint64 {
	b := make([]byte, 16*len(parts))
	for i, p := range parts {
		binary.LittleEndian.PutUint64(b[16*i:], p[0])
		binary.LittleEndian.PutUint64(b[16*i+8:], p[1])
	}
	return e.put(b)
}

func TestReadvWritev(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/tmp/v", linux.OCreat|linux.ORdwr, 0o644)
	a, b := e.put([]byte("hello ")), e.put([]byte("world"))
	if n := e.f.Writev(e.m, nil, fd, iovec(e, [2]uint64{a, 6}, [2]uint64{0, 0}, [2]uint64{b, 5}), 3); n != 11 {
		t.Fatalf("Writev = %d", n)
	}
	e.f.Lseek(fd, 0, linux.SeekSet)
	x, y := e.alloc(4), e.alloc(16)
	if n := e.f.Readv(e.m, nil, fd, iovec(e, [2]uint64{x, 4}, [2]uint64{y, 16}), 2); n != 11 ||
		string(e.get(x, 4)) != "hell" || string(e.get(y, 7)) != "o world" {
		t.Errorf("Readv = %d %q %q", n, e.get(x, 4), e.get(y, 7))
	}
	// Preadv and Pwritev.
	if n := e.f.Pwritev(e.m, fd, iovec(e, [2]uint64{e.put([]byte("W")), 1}), 1, 6); n != 1 {
		t.Errorf("Pwritev = %d", n)
	}
	if n := e.f.Preadv(e.m, fd, iovec(e, [2]uint64{x, 4}), 1, 5); n != 4 || string(e.get(x, 4)) != " Wor" {
		t.Errorf("Preadv = %d %q", n, e.get(x, 4))
	}
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"bad iovec array", e.f.Readv(e.m, nil, fd, badAddr, 1), neg(linux.EFAULT)},
		{"too many iovecs", e.f.Readv(e.m, nil, fd, x, 1025), neg(linux.EINVAL)},
		{"negative length", e.f.Writev(e.m, nil, fd, iovec(e, [2]uint64{a, 1 << 63}), 1), neg(linux.EINVAL)},
		{"no iovecs", e.f.Writev(e.m, nil, fd, badAddr, 0), 0},
		{"bad fd", e.f.Writev(e.m, nil, 77, iovec(e, [2]uint64{a, 1}), 1), neg(linux.EBADF)},
		{"first buffer bad", e.f.Writev(e.m, nil, fd, iovec(e, [2]uint64{badAddr, 3}, [2]uint64{a, 3}), 2), neg(linux.EFAULT)},
		// The second buffer is bad: the first one's bytes count.
		{"second buffer bad", e.f.Writev(e.m, nil, fd, iovec(e, [2]uint64{a, 3}, [2]uint64{badAddr, 3}), 2), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestDevices(t *testing.T) {
	var seeded []byte
	e := newEnv(t)
	buf := e.alloc(32)
	null := e.open("/dev/null", linux.ORdwr, 0)
	if n := e.f.Read(e.m, nil, null, buf, 32); n != 0 {
		t.Errorf("read /dev/null = %d", n)
	}
	if n := e.f.Write(e.m, nil, null, buf, 32); n != 32 {
		t.Errorf("write /dev/null = %d", n)
	}
	zero := e.open("/dev/zero", linux.ORdwr, 0)
	copy(e.m.Data[buf-memBase:], "xxxx")
	if n := e.f.Read(e.m, nil, zero, buf, 4); n != 4 || string(e.get(buf, 4)) != "\x00\x00\x00\x00" {
		t.Errorf("read /dev/zero = %d %q", n, e.get(buf, 4))
	}
	full := e.open("/dev/full", linux.OWronly, 0)
	if n := e.f.Write(e.m, nil, full, buf, 4); n != neg(linux.ENOSPC) {
		t.Errorf("write /dev/full = %d", n)
	}
	for _, p := range []string{"/dev/urandom", "/dev/random"} {
		fd := e.open(p, linux.ORdonly, 0)
		if n := e.f.Read(e.m, nil, fd, buf, 8); n != 8 {
			t.Errorf("read %s = %d", p, n)
		}
		seeded = e.get(buf, 8)
		if string(seeded) != "\x00\x01\x02\x03\x04\x05\x06\x07" {
			t.Errorf("read %s = %q, want the test's Random bytes", p, seeded)
		}
	}
	// The archive's own /dev/null is covered by the /dev mount, and a
	// character device made elsewhere opens the same device.
	if r := e.f.Mknodat(e.m, linux.AtFdcwd, e.str("/tmp/zero"), linux.SIfchr|0o666, 1<<8|5); r != 0 {
		t.Fatalf("Mknodat = %d", r)
	}
	fd := e.open("/tmp/zero", linux.ORdonly, 0)
	if n := e.f.Read(e.m, nil, fd, buf, 3); n != 3 {
		t.Errorf("read a mknod'ed /dev/zero = %d", n)
	}
	if r := e.f.Mknodat(e.m, linux.AtFdcwd, e.str("/tmp/fifo"), linux.SIfifo|0o666, 0); r != 0 {
		t.Fatalf("Mknodat(fifo) = %d", r)
	}
	if r := e.f.Mknodat(e.m, linux.AtFdcwd, e.str("/tmp/sock"), linux.SIfsock|0o666, 0); r != 0 {
		t.Fatalf("Mknodat(socket) = %d", r)
	}
	if r := e.f.Open(e.m, nil, e.str("/tmp/sock"), linux.ORdonly, 0); r != neg(linux.ENXIO) {
		t.Errorf("open socket = %d, want ENXIO", r)
	}
	st, _ := e.stat("/dev/null", 0)
	if st.Mode != linux.SIfchr|0o666 || st.Rdev != linux.Mkdev(1, 3) {
		t.Errorf("stat /dev/null: mode %#o rdev %#x", st.Mode, st.Rdev)
	}
}

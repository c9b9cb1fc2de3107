package fdtable

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// pipe makes a pipe and returns its read and write descriptors.
func (e *env) pipe(flags uint32) (int32, int32) {
	e.t.Helper()
	p := e.alloc(8)
	if r := e.f.Pipe2(e.m, p, flags); r != 0 {
		e.t.Fatalf("Pipe2 = %d", r)
	}
	return int32(e.u32(p)), int32(e.u32(p + 4))
}

func TestPipeBasics(t *testing.T) {
	e := newEnv(t)
	r, w := e.pipe(0)
	e.write(w, "hello")
	if got, _ := e.read(r, 3); got != "hel" {
		t.Errorf("read = %q", got)
	}
	if got, _ := e.read(r, 10); got != "lo" {
		t.Errorf("read = %q", got)
	}
	buf := e.alloc(8)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"read the write end", e.f.Read(e.m, nil, w, buf, 1), neg(linux.EBADF)},
		{"write the read end", e.f.Write(e.m, nil, r, buf, 1), neg(linux.EBADF)},
		{"pread", e.f.Pread64(e.m, r, buf, 1, 0), neg(linux.ESPIPE)},
		{"pwrite", e.f.Pwrite64(e.m, w, buf, 1, 0), neg(linux.ESPIPE)},
		{"bad flags", e.f.Pipe2(e.m, buf, linux.OAppend), neg(linux.EINVAL)},
		{"packet mode", e.f.Pipe2(e.m, buf, linux.ODirect), neg(linux.EINVAL)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// A bad result pointer leaves no descriptors behind.
	before := len(e.f.Table().FDs())
	if res := e.f.Pipe2(e.m, badAddr, 0); res != neg(linux.EFAULT) {
		t.Errorf("Pipe2(bad pointer) = %d", res)
	}
	if after := len(e.f.Table().FDs()); after != before {
		t.Errorf("descriptors: %d before, %d after a failed Pipe2", before, after)
	}
	// Writers gone: what is left, then end of file.
	e.write(w, "bye")
	e.f.Close(w)
	if got := e.readAll(r); got != "bye" {
		t.Errorf("read after the writer closed = %q", got)
	}
	// Readers gone: EPIPE.
	r2, w2 := e.pipe(0)
	e.f.Close(r2)
	if n := e.f.Write(e.m, nil, w2, e.put([]byte("x")), 1); n != neg(linux.EPIPE) {
		t.Errorf("write without readers = %d, want EPIPE", n)
	}
	// Cloexec flag.
	r3, _ := e.pipe(linux.OCloexec)
	if got := e.f.Fcntl(e.m, r3, linux.FGetfd, 0); got != linux.FdCloexec {
		t.Errorf("pipe2(O_CLOEXEC) F_GETFD = %d", got)
	}
}

func TestPipeNonblocking(t *testing.T) {
	e := newEnv(t)
	r, w := e.pipe(linux.ONonblock)
	buf := e.alloc(8)
	if n := e.f.Read(e.m, nil, r, buf, 8); n != neg(linux.EAGAIN) {
		t.Errorf("read of an empty non-blocking pipe = %d, want EAGAIN", n)
	}
	big := e.alloc(vfs.PipeSize + 100)
	if n := e.f.Write(e.m, nil, w, big, vfs.PipeSize+100); n != vfs.PipeSize {
		t.Errorf("non-blocking write of more than fits = %d, want %d", n, vfs.PipeSize)
	}
	if n := e.f.Write(e.m, nil, w, big, 1); n != neg(linux.EAGAIN) {
		t.Errorf("write to a full non-blocking pipe = %d, want EAGAIN", n)
	}
	// Writes up to PIPE_BUF are atomic: with 100 bytes free, 200 do not go.
	e.f.Read(e.m, nil, r, big, 100)
	if n := e.f.Write(e.m, nil, w, big, 200); n != neg(linux.EAGAIN) {
		t.Errorf("atomic write that does not fit = %d, want EAGAIN", n)
	}
	if n := e.f.Write(e.m, nil, w, big, 100); n != 100 {
		t.Errorf("write that fits = %d", n)
	}
}

func TestPipeBlocking(t *testing.T) {
	e := newEnv(t)
	r, w := e.pipe(0)
	// A blocked reader gets what a writer writes later.
	buf := e.alloc(16)
	done := make(chan int64)
	go func() { done <- e.f.Read(e.m, nil, r, buf, 16) }()
	e.write(w, "wake")
	if n := <-done; n != 4 || string(e.get(buf, 4)) != "wake" {
		t.Errorf("blocked read = %d %q", n, e.get(buf, 4))
	}
	// A blocked reader is interrupted.
	intr := make(chan struct{})
	go func() { done <- e.f.Read(e.m, intr, r, buf, 16) }()
	close(intr)
	if n := <-done; n != neg(linux.EINTR) {
		t.Errorf("interrupted read = %d, want EINTR", n)
	}
	// A blocked reader sees end of file when the writer closes.
	go func() { done <- e.f.Read(e.m, nil, r, buf, 16) }()
	e.f.Close(w)
	if n := <-done; n != 0 {
		t.Errorf("read when the writer closes = %d, want 0", n)
	}
}

func TestPipeLargeWrite(t *testing.T) {
	e := newEnv(t)
	r, w := e.pipe(0)
	const size = 3*vfs.PipeSize + 12345
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	src := e.put(data)
	dst := e.alloc(size)
	wrote := make(chan int64)
	go func() { wrote <- e.f.Write(e.m, nil, w, src, size) }()
	got := 0
	for got < size {
		n := e.f.Read(e.m, nil, r, dst+uint64(got), uint64(size-got))
		if n <= 0 {
			t.Fatalf("Read = %d after %d bytes", n, got)
		}
		got += int(n)
	}
	if n := <-wrote; n != size {
		t.Errorf("blocking Write = %d, want %d", n, size)
	}
	if !bytes.Equal(e.get(dst, size), data) {
		t.Error("data read differs from data written")
	}
	// A blocked writer interrupted after writing part returns the part.
	intr := make(chan struct{})
	go func() { wrote <- e.f.Write(e.m, intr, w, src, size) }()
	for got = 0; got < vfs.PipeSize; {
		got += int(e.f.Read(e.m, nil, r, dst, vfs.PipeSize))
	}
	close(intr)
	if n := <-wrote; n < vfs.PipeSize || n >= size {
		t.Errorf("interrupted Write = %d, want the part written", n)
	}
}

func TestEventfd(t *testing.T) {
	e := newEnv(t)
	buf := e.alloc(8)
	val := func(v uint64) uint64 { return e.put(binary.LittleEndian.AppendUint64(nil, v)) }
	fd := int32(e.f.Eventfd2(3, linux.EfdNonblock))
	if fd < 0 {
		t.Fatalf("Eventfd2 = %d", fd)
	}
	sem := int32(e.f.Eventfd2(2, linux.EfdSemaphore|linux.EfdNonblock|linux.EfdCloexec))
	for _, c := range []struct {
		name string
		call func() int64
		want int64
		val  uint64 // what buf holds afterwards
	}{
		{"read", func() int64 { return e.f.Read(e.m, nil, fd, buf, 8) }, 8, 3},
		{"read empty", func() int64 { return e.f.Read(e.m, nil, fd, buf, 8) }, neg(linux.EAGAIN), 3},
		{"write", func() int64 { return e.f.Write(e.m, nil, fd, val(5), 8) }, 8, 3},
		{"write more", func() int64 { return e.f.Write(e.m, nil, fd, val(6), 8) }, 8, 3},
		{"read sum", func() int64 { return e.f.Read(e.m, nil, fd, buf, 8) }, 8, 11},
		{"short read", func() int64 { return e.f.Read(e.m, nil, fd, buf, 7) }, neg(linux.EINVAL), 11},
		{"short write", func() int64 { return e.f.Write(e.m, nil, fd, val(1), 4) }, neg(linux.EINVAL), 11},
		// Exactly 8 bytes (fs/eventfd.c eventfd_write; Linux 6.18 checked
		// natively): a longer write is EINVAL too, the counter untouched.
		{"long write", func() int64 {
			return e.f.Write(e.m, nil, fd, e.put(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), 2)), 16)
		}, neg(linux.EINVAL), 11},
		{"write all ones", func() int64 { return e.f.Write(e.m, nil, fd, val(math.MaxUint64), 8) }, neg(linux.EINVAL), 11},
		{"write max", func() int64 { return e.f.Write(e.m, nil, fd, val(math.MaxUint64-1), 8) }, 8, 11},
		{"overflow", func() int64 { return e.f.Write(e.m, nil, fd, val(1), 8) }, neg(linux.EAGAIN), 11},
		{"bad read buffer", func() int64 { return e.f.Read(e.m, nil, fd, badAddr, 8) }, neg(linux.EFAULT), 11},
		{"semaphore read", func() int64 { return e.f.Read(e.m, nil, sem, buf, 8) }, 8, 1},
		{"semaphore read again", func() int64 { return e.f.Read(e.m, nil, sem, buf, 8) }, 8, 1},
		{"semaphore empty", func() int64 { return e.f.Read(e.m, nil, sem, buf, 8) }, neg(linux.EAGAIN), 1},
		{"bad flags", func() int64 { return e.f.Eventfd2(0, 0x10) }, neg(linux.EINVAL), 1},
	} {
		if got := c.call(); got != c.want || e.u64(buf) != c.val {
			t.Errorf("%s = %d (buffer %d), want %d (%d)", c.name, got, e.u64(buf), c.want, c.val)
		}
	}
	// The failed read left the counter alone.
	if n := e.f.Read(e.m, nil, fd, buf, 8); n != 8 || e.u64(buf) != math.MaxUint64-1 {
		t.Errorf("read after a faulting read = %d %d", n, e.u64(buf))
	}
	// A blocking eventfd wakes its reader.
	bfd := int32(e.f.Eventfd(0))
	done := make(chan int64)
	out := e.alloc(8)
	go func() { done <- e.f.Read(e.m, nil, bfd, out, 8) }()
	e.f.Write(e.m, nil, bfd, val(42), 8)
	if n := <-done; n != 8 || e.u64(out) != 42 {
		t.Errorf("blocked eventfd read = %d %d", n, e.u64(out))
	}
}

func TestConsoleInput(t *testing.T) {
	in, feed := io.Pipe()
	e := newEnvWith(t, testFiles, vfs.Options{ConsoleIn: in})
	buf := e.alloc(64)
	done := make(chan int64)
	go func() { done <- e.f.Read(e.m, nil, 0, buf, 64) }()
	go feed.Write([]byte("line one\nline two\n"))
	if n := <-done; n != 9 || string(e.get(buf, 9)) != "line one\n" {
		t.Errorf("console read = %d %q, want the first line", n, e.get(buf, max(int(n), 0)))
	}
	if n := e.f.Read(e.m, nil, 0, buf, 64); n != 9 || string(e.get(buf, 9)) != "line two\n" {
		t.Errorf("console read = %d %q, want the second line", n, e.get(buf, max(int(n), 0)))
	}
	// Non-blocking with nothing there: EAGAIN; interrupted: EINTR.
	e.f.Fcntl(e.m, 0, linux.FSetfl, linux.ONonblock)
	if n := e.f.Read(e.m, nil, 0, buf, 64); n != neg(linux.EAGAIN) {
		t.Errorf("non-blocking console read = %d", n)
	}
	e.f.Fcntl(e.m, 0, linux.FSetfl, 0)
	intr := make(chan struct{})
	close(intr)
	if n := e.f.Read(e.m, intr, 0, buf, 64); n != neg(linux.EINTR) {
		t.Errorf("interrupted console read = %d", n)
	}
	// The end of input reads as end of file.
	feed.Close()
	if n := e.f.Read(e.m, nil, 0, buf, 64); n != 0 {
		t.Errorf("console read at end of input = %d", n)
	}
}

package fdtable

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
	"github.com/u-root/u-root/pkg/cpio"
)

// Addresses in the fake application memory.
const (
	memBase = 0x10000
	memSize = 1 << 20
	badAddr = 0xdead0000 // never mapped
)

// syncBuffer is console output safe to read while threads write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a process with its memory, over a file system from an archive.
type env struct {
	t       testing.TB
	fs      *vfs.FS
	f       *Files
	m       *mem.Fake
	allocMu sync.Mutex // alloc runs on test goroutines too
	next    uint64
	out     *syncBuffer
	archive []byte
}

// testFiles is the archive most tests use.
var testFiles = []cpio.Record{
	cpio.Directory("etc", 0o755),
	cpio.StaticFile("etc/hosts", "127.0.0.1 localhost\n", 0o644),
	cpio.StaticFile("init", "\x7fELF...", 0o755),
	cpio.Symlink("etc/link", "hosts"),
	cpio.Symlink("etc/abs", "/etc/hosts"),
	cpio.Symlink("loop1", "loop2"),
	cpio.Symlink("loop2", "loop1"),
	cpio.Symlink("dangling", "/nowhere"),
	cpio.Directory("usr/lib", 0o755),
	cpio.StaticFile("usr/lib/a", "aaa", 0o644),
	cpio.StaticFile("usr/lib/b", "bbb", 0o644),
	cpio.Directory("usr/share", 0o755),
	cpio.CharDev("dev/null", 0o666, 1, 3),
}

// makeArchive writes records as a newc archive with u-root's writer.
func makeArchive(t testing.TB, recs []cpio.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newEnv(t testing.TB) *env { return newEnvWith(t, testFiles, vfs.Options{}) }

func newEnvWith(t testing.TB, recs []cpio.Record, opts vfs.Options) *env {
	t.Helper()
	e := &env{t: t, m: mem.NewFake(memBase, memSize), next: memBase, out: &syncBuffer{}}
	e.archive = makeArchive(t, recs)
	if opts.ConsoleOut == nil {
		opts.ConsoleOut = e.out
	}
	if opts.Random == nil {
		opts.Random = func(p []byte) {
			for i := range p {
				p[i] = byte(i)
			}
		}
	}
	fs, err := vfs.New(e.archive, opts)
	if err != nil {
		t.Fatalf("vfs.New: %v", err)
	}
	e.fs = fs
	e.f = New(fs, "/init")
	return e
}

// alloc returns n zeroed bytes of application memory, 8-aligned.
func (e *env) alloc(n int) uint64 {
	e.allocMu.Lock()
	defer e.allocMu.Unlock()
	a := e.next
	e.next += uint64(n+7) &^ 7
	if e.next > memBase+memSize {
		e.t.Fatal("fake memory exhausted")
	}
	clear(e.m.Data[a-memBase : e.next-memBase])
	return a
}

// str places a NUL-terminated string in memory.
func (e *env) str(s string) uint64 {
	a := e.alloc(len(s) + 1)
	copy(e.m.Data[a-memBase:], s)
	return a
}

// put places bytes in memory.
func (e *env) put(b []byte) uint64 {
	a := e.alloc(len(b))
	copy(e.m.Data[a-memBase:], b)
	return a
}

// get returns n bytes of memory at a.
func (e *env) get(a uint64, n int) []byte {
	return append([]byte(nil), e.m.Data[a-memBase:a-memBase+uint64(n)]...)
}

func (e *env) u32(a uint64) uint32 { return binary.LittleEndian.Uint32(e.get(a, 4)) }
func (e *env) u64(a uint64) uint64 { return binary.LittleEndian.Uint64(e.get(a, 8)) }

// open opens path and fails the test if it cannot.
func (e *env) open(path string, flags, mode uint32) int32 {
	e.t.Helper()
	fd := e.f.Openat(e.m, nil, linux.AtFdcwd, e.str(path), flags, mode)
	if fd < 0 {
		e.t.Fatalf("Openat(%q, %#x) = %d", path, flags, fd)
	}
	return int32(fd)
}

// write writes s to fd and fails the test if not all is written.
func (e *env) write(fd int32, s string) {
	e.t.Helper()
	if n := e.f.Write(e.m, nil, fd, e.put([]byte(s)), uint64(len(s))); n != int64(len(s)) {
		e.t.Fatalf("Write(%d, %q) = %d", fd, s, n)
	}
}

// read reads up to n bytes from fd.
func (e *env) read(fd int32, n int) (string, int64) {
	e.t.Helper()
	a := e.alloc(n)
	r := e.f.Read(e.m, nil, fd, a, uint64(n))
	if r < 0 {
		return "", r
	}
	return string(e.get(a, int(r))), r
}

// readAll reads fd to its end.
func (e *env) readAll(fd int32) string {
	e.t.Helper()
	var out []byte
	for {
		s, n := e.read(fd, 7)
		if n < 0 {
			e.t.Fatalf("Read(%d) = %d", fd, n)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, s...)
	}
}

// cat returns the contents of path.
func (e *env) cat(path string) string {
	e.t.Helper()
	fd := e.open(path, linux.ORdonly, 0)
	defer e.f.Close(fd)
	return e.readAll(fd)
}

// stat returns the struct stat of path.
func (e *env) stat(path string, flags uint32) (linux.Stat, int64) {
	a := e.alloc(linux.SizeofStat)
	r := e.f.Newfstatat(e.m, linux.AtFdcwd, e.str(path), a, flags)
	return decodeStat(e.get(a, linux.SizeofStat)), r
}

func decodeStat(b []byte) linux.Stat {
	le := binary.LittleEndian
	return linux.Stat{
		Dev: le.Uint64(b[0:]), Ino: le.Uint64(b[8:]), Nlink: le.Uint64(b[16:]), Mode: le.Uint32(b[24:]),
		UID: le.Uint32(b[28:]), GID: le.Uint32(b[32:]), Rdev: le.Uint64(b[40:]), Size: int64(le.Uint64(b[48:])),
		Blksize: int64(le.Uint64(b[56:])), Blocks: int64(le.Uint64(b[64:])),
		Atime: int64(le.Uint64(b[72:])), AtimeNsec: int64(le.Uint64(b[80:])),
		Mtime: int64(le.Uint64(b[88:])), MtimeNsec: int64(le.Uint64(b[96:])),
	}
}

// names lists directory path through getdents64 with a buffer of size
// bytes.
func (e *env) names(path string, size int) []string {
	e.t.Helper()
	fd := e.open(path, linux.ORdonly|linux.ODirectory, 0)
	defer e.f.Close(fd)
	var out []string
	buf := e.alloc(size)
	for {
		n := e.f.Getdents64(e.m, fd, buf, uint64(size))
		if n < 0 {
			e.t.Fatalf("Getdents64(%q) = %d", path, n)
		}
		if n == 0 {
			return out
		}
		b := e.get(buf, int(n))
		for len(b) > 0 {
			reclen := binary.LittleEndian.Uint16(b[16:])
			name := b[19:reclen]
			out = append(out, string(name[:bytes.IndexByte(name, 0)]))
			b = b[reclen:]
		}
	}
}

var _ io.Writer = (*syncBuffer)(nil)

// neg returns -errno as the int64 system calls return.
func neg(e int) int64 { return -int64(e) }

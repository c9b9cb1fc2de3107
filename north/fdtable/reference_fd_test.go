//go:build linux

package fdtable

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// fdKinds are the descriptors TestFDsAgainstLinux opens on both sides:
// a name, how to open it as a path under the tree (or "pipe-r", "pipe-w",
// "eventfd", "epoll"), and open flags.
var fdKinds = []struct {
	name, path string
	flags      uint32
}{
	{"file rdonly", "d/f", linux.ORdonly},
	{"file wronly", "d/f", linux.OWronly},
	{"file rdwr append", "d/f", linux.ORdwr | linux.OAppend},
	{"file O_PATH", "d/f", linux.OPath},
	{"dir", "d", linux.ORdonly | linux.ODirectory},
	{"dir O_PATH", "d", linux.OPath | linux.ODirectory},
	{"null", "/dev/null", linux.ORdwr},
	{"pipe read end", "pipe-r", linux.ONonblock},
	{"pipe write end", "pipe-w", linux.ONonblock},
	{"eventfd", "eventfd", linux.ONonblock},
	{"epoll", "epoll", 0},
}

// bufArg stands for a side's 4 KiB buffer among system call arguments.
const bufArg = ^uintptr(0) - 1

// fdSide makes system calls on one side.
type fdSide interface {
	// call makes system call nr; bufArg arguments become the buffer.
	call(nr uintptr, a ...uintptr) int64
	// buf returns the buffer's contents; setBuf sets them.
	buf() []byte
	setBuf(b []byte)
}

// fdOps are the operations tried on each descriptor: each returns a
// result to compare, an errno or a value.
var fdOps = []struct {
	name string
	op   func(s fdSide, fd, ep uintptr) int64
}{
	{"read 8", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysRead, fd, bufArg, 8) }},
	{"read 0", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysRead, fd, bufArg, 0) }},
	{"write 8", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysWrite, fd, bufArg, 8) }},
	{"pread 4 at 1", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysPread64, fd, bufArg, 4, 1) }},
	{"pwrite 1 at 0", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysPwrite64, fd, bufArg, 1, 0) }},
	{"lseek set 2", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysLseek, fd, 2, linux.SeekSet) }},
	{"lseek end -1", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysLseek, fd, ^uintptr(0), linux.SeekEnd) }},
	{"lseek whence 9", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysLseek, fd, 0, 9) }},
	{"ftruncate 1", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFtruncate, fd, 1) }},
	{"fsync", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFsync, fd) }},
	{"F_GETFL", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFcntl, fd, linux.FGetfl) }},
	{"F_SETFL", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFcntl, fd, linux.FSetfl, linux.ONonblock) }},
	{"F_GETPIPE_SZ", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFcntl, fd, linux.FGetpipeSz) }},
	{"getdents64 4096", func(s fdSide, fd, _ uintptr) int64 {
		if r := s.call(sysGetdents64, fd, bufArg, 4096); r < 0 {
			return r
		}
		return 1 // the listing's size depends on the file system
	}},
	{"fchdir", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFchdir, fd) }},
	{"TCGETS", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysIoctl, fd, linux.TCGETS, bufArg) }},
	{"FIONREAD", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysIoctl, fd, linux.FIONREAD, bufArg) }},
	{"fstat type", func(s fdSide, fd, _ uintptr) int64 {
		if r := s.call(sysFstat, fd, bufArg); r < 0 {
			return r
		}
		return int64(decodeStat(s.buf()).Mode & linux.SIfmt)
	}},
	{"fadvise", func(s fdSide, fd, _ uintptr) int64 { return s.call(sysFadvise64, fd, 0, 0, 0) }},
	{"epoll_ctl add", func(s fdSide, fd, ep uintptr) int64 {
		s.setBuf(linux.EpollEvent{Events: linux.EpollIn}.Marshal())
		return s.call(sysEpollCtl, ep, linux.EpollCtlAdd, fd, bufArg)
	}},
	{"close twice", func(s fdSide, fd, _ uintptr) int64 {
		s.call(sysClose, fd)
		return s.call(sysClose, fd)
	}},
}

func TestFDsAgainstLinux(t *testing.T) {
	base := tmpfsDir(t)
	for _, k := range fdKinds {
		for _, op := range fdOps {
			h := &hostFDSide{b: make([]byte, 4096)}
			h.setBuf([]byte("12345678\x01"))
			hr := hostFD(t, base, k.path, k.flags)
			want := op.op(h, hr.fd, hr.ep)
			o := newOursSide(t)
			ours := &oursFDSide{o: o, addr: o.e.alloc(4096)}
			ours.setBuf([]byte("12345678\x01"))
			or := oursFD(t, o, k.path, k.flags)
			if got := op.op(ours, or.fd, or.ep); got != want {
				t.Errorf("%s on %s: got %d, Linux gives %d", op.name, k.name, got, want)
			}
		}
	}
}

// fdRef is a descriptor opened on one side, and an epoll descriptor there.
type fdRef struct{ fd, ep uintptr }

type hostFDSide struct{ b []byte }

func (h *hostFDSide) call(nr uintptr, a ...uintptr) int64 {
	var args [6]uintptr
	copy(args[:], a)
	for i := range args {
		if args[i] == bufArg {
			args[i] = uintptr(unsafe.Pointer(&h.b[0]))
		}
	}
	r, _, e := syscall.Syscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5])
	runtime.KeepAlive(h.b)
	if e != 0 {
		return -int64(e)
	}
	return int64(r)
}

func (h *hostFDSide) buf() []byte     { return h.b }
func (h *hostFDSide) setBuf(b []byte) { copy(h.b, b) }

type oursFDSide struct {
	o    oursSide
	addr uint64
}

func (s *oursFDSide) call(nr uintptr, a ...uintptr) int64 {
	var args [6]uint64
	for i, v := range a {
		args[i] = uint64(v)
		if v == bufArg {
			args[i] = s.addr
		}
	}
	r, ok := s.o.e.f.Syscall(s.o.e.m, closedChan(), uint64(nr), args)
	if !ok {
		panic("system call not handled")
	}
	return r
}

func (s *oursFDSide) buf() []byte     { return s.o.e.get(s.addr, 4096) }
func (s *oursFDSide) setBuf(b []byte) { copy(s.o.e.m.Data[s.addr-memBase:], b) }

func hostFD(t *testing.T, base, path string, flags uint32) fdRef {
	root, err := os.MkdirTemp(base, "fd")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d/f"), []byte("hello"), 0o644)
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(ep) })
	var fd int
	switch path {
	case "pipe-r", "pipe-w":
		var p [2]int
		if err := syscall.Pipe2(p[:], int(flags|linux.OCloexec)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
		fd = p[0]
		if path == "pipe-w" {
			fd = p[1]
		}
	case "eventfd":
		r, _, e := syscall.Syscall(sysEventfd2, 0, uintptr(flags|linux.OCloexec), 0)
		if e != 0 {
			t.Fatal(e)
		}
		fd = int(r)
	case "epoll":
		fd, _ = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	default:
		if path[0] != '/' {
			path = filepath.Join(root, path)
		}
		if fd, err = syscall.Open(path, int(flags|linux.OCloexec), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return fdRef{uintptr(fd), uintptr(ep)}
}

func oursFD(t *testing.T, o oursSide, path string, flags uint32) fdRef {
	e := o.e
	ep := e.epoll()
	var fd int32
	switch path {
	case "pipe-r", "pipe-w":
		r, w := e.pipe(flags)
		fd = r
		if path == "pipe-w" {
			fd = w
		}
	case "eventfd":
		fd = int32(e.f.Eventfd2(0, flags))
	case "epoll":
		fd = e.epoll()
	default:
		dir := o.dir
		if path[0] == '/' {
			dir = linux.AtFdcwd
		}
		r := e.f.Openat(e.m, nil, dir, e.str(path), flags, 0)
		if r < 0 {
			t.Fatalf("Openat(%q) = %d", path, r)
		}
		fd = int32(r)
	}
	return fdRef{uintptr(fd), uintptr(ep)}
}

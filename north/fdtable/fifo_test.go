package fdtable

import (
	"os"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// fifoScript runs non-blocking operations on a new FIFO "fifo" in the
// directory dirfd on one side and returns their results; a successful
// open gives 0, since descriptor numbers differ between sides.
func fifoScript(s fdSide, dirfd uintptr) []int64 {
	var res []int64
	add := func(r int64) { res = append(res, r) }
	path := func(name string) uintptr {
		s.setBuf(append([]byte(name), 0))
		return bufArg
	}
	open := func(flags uint32) uintptr {
		r := s.call(sysOpenat, dirfd, path("fifo"), uintptr(flags|linux.OCloexec))
		add(min(r, 0))
		return uintptr(r)
	}
	poll := func(fd uintptr) {
		pfd := make([]byte, 8)
		pfd[0], pfd[1], pfd[2], pfd[3] = byte(fd), byte(fd>>8), byte(fd>>16), byte(fd>>24)
		pfd[4] = byte(linux.EpollIn) // POLLIN
		s.setBuf(pfd)
		add(s.call(sysPoll, bufArg, 1, 0))
		add(int64(s.buf()[6]) | int64(s.buf()[7])<<8) // revents
	}
	fionread := func(fd uintptr) {
		add(s.call(sysIoctl, fd, linux.FIONREAD, bufArg))
		add(int64(s.buf()[0]) | int64(s.buf()[1])<<8)
	}

	add(s.call(sysMknodat, dirfd, path("fifo"), linux.SIfifo|0o600, 0))
	open(linux.OWronly | linux.ONonblock) // no reader: ENXIO
	open(3 | linux.ONonblock)             // no access mode
	r := open(linux.ORdonly | linux.ONonblock)
	add(s.call(sysRead, r, bufArg, 8)) // no writer: end of file
	poll(r)                            // no EPOLLHUP before a writer came
	w := open(linux.OWronly | linux.ONonblock)
	s.setBuf([]byte("12345678"))
	add(s.call(sysWrite, w, bufArg, 8))
	fionread(r)
	add(s.call(sysRead, r, bufArg, 4))
	add(s.call(sysFcntl, r, linux.FGetpipeSz))
	add(s.call(sysFstat, r, bufArg))
	add(int64(decodeStat(s.buf()).Mode))
	add(s.call(sysLseek, r, 0, linux.SeekSet))
	add(s.call(sysClose, w))
	poll(r) // data and EPOLLHUP
	add(s.call(sysRead, r, bufArg, 8))
	add(s.call(sysRead, r, bufArg, 8))
	// Unread bytes go with the last end.
	rw := open(linux.ORdwr)
	add(s.call(sysWrite, rw, bufArg, 3))
	poll(rw)
	add(s.call(sysClose, rw))
	add(s.call(sysClose, r))
	r = open(linux.ORdonly | linux.ONonblock)
	fionread(r)
	add(s.call(sysRead, r, bufArg, 8))
	// A reader alone: writes would fail, the write end of a new open
	// still succeeds, and closing the reader leaves the writer EPIPE.
	w = open(linux.OWronly | linux.ONonblock)
	add(s.call(sysClose, r))
	s.setBuf([]byte("x"))
	add(s.call(sysWrite, w, bufArg, 1))
	add(s.call(sysClose, w))
	return res
}

func TestFIFOAgainstLinux(t *testing.T) {
	// The host's write without readers raises SIGPIPE, which the Go
	// runtime ignores unless os/signal asks for it.
	dir, err := os.Open(tmpfsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	want := fifoScript(&hostFDSide{b: make([]byte, 4096)}, dir.Fd())

	o := newOursSide(t)
	got := fifoScript(&oursFDSide{o: o, addr: o.e.alloc(4096)}, uintptr(o.dir))
	if len(got) != len(want) {
		t.Fatalf("script gave %d results, Linux %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: got %d, Linux gives %d\ngot  %v\nwant %v", i, got[i], want[i], got, want)
		}
	}
}

func TestFIFOBlockingOpen(t *testing.T) {
	e := newEnv(t)
	if r := e.f.Mknodat(e.m, linux.AtFdcwd, e.str("/tmp/fifo"), linux.SIfifo|0o666, 0); r != 0 {
		t.Fatalf("Mknodat(fifo) = %d", r)
	}
	path := e.str("/tmp/fifo")
	opened := make(chan int64, 2)
	open := func(intr chan struct{}, flags uint32) {
		go func() { opened <- e.f.Open(e.m, intr, path, flags, 0) }()
	}
	pending := func(what string) {
		t.Helper()
		select {
		case r := <-opened:
			t.Fatalf("%s returned %d before the other side opened", what, r)
		case <-time.After(50 * time.Millisecond):
		}
	}
	fd := func(what string) int32 {
		t.Helper()
		select {
		case r := <-opened:
			if r < 0 {
				t.Fatalf("%s = %d", what, r)
			}
			return int32(r)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still waits", what)
		}
		return -1
	}

	// A reader waits for a writer, and the two meet.
	open(nil, linux.ORdonly)
	pending("blocking open for reading")
	open(nil, linux.OWronly)
	r, w := fd("an open"), fd("the other open")
	if e.f.Fcntl(e.m, r, linux.FGetfl, 0)&linux.OAccmode != linux.ORdonly {
		r, w = w, r
	}
	e.write(w, "through")
	e.f.Close(w)
	if got := e.readAll(r); got != "through" {
		t.Errorf("read from the FIFO = %q, want %q", got, "through")
	}
	e.f.Close(r)

	// A writer waits for a reader; one that opens and closes again
	// still ends the wait, leaving the writer without readers.
	open(nil, linux.OWronly)
	pending("blocking open for writing")
	// (path is already in memory: the test does not write memory that
	// a waiting open has read.)
	if r := e.f.Open(e.m, nil, path, linux.ORdonly|linux.ONonblock, 0); r < 0 {
		t.Fatalf("non-blocking open for reading = %d", r)
	} else {
		e.f.Close(int32(r))
	}
	w = fd("blocking open for writing")
	if n := e.f.Write(e.m, nil, w, e.put([]byte("x")), 1); n != neg(linux.EPIPE) {
		t.Errorf("write without readers = %d, want EPIPE", n)
	}
	e.f.Close(w)

	// An interrupted open returns EINTR and leaves no descriptor, and
	// O_RDWR never waits.
	before := len(e.f.Table().FDs())
	intr := make(chan struct{})
	open(intr, linux.ORdonly)
	pending("blocking open for reading")
	close(intr)
	if r := <-opened; r != neg(linux.EINTR) {
		t.Errorf("interrupted open = %d, want EINTR", r)
	}
	if after := len(e.f.Table().FDs()); after != before {
		t.Errorf("descriptors: %d before, %d after an interrupted open", before, after)
	}
	open(nil, linux.ORdwr)
	e.f.Close(fd("open O_RDWR"))
}

func TestFIFOPipeSize(t *testing.T) {
	e := newEnv(t)
	e.f.Mknodat(e.m, linux.AtFdcwd, e.str("/tmp/fifo"), linux.SIfifo|0o666, 0)
	rw := e.open("/tmp/fifo", linux.ORdwr, 0)
	if got := e.f.Fcntl(e.m, rw, linux.FSetpipeSz, 1<<20); got != 1<<20 {
		t.Errorf("F_SETPIPE_SZ on a FIFO = %d", got)
	}
	// Another open shares the pipe while one end stays open.
	r := e.open("/tmp/fifo", linux.ORdonly|linux.ONonblock, 0)
	if got := e.f.Fcntl(e.m, r, linux.FGetpipeSz, 0); got != 1<<20 {
		t.Errorf("F_GETPIPE_SZ on a second open = %d, want %d", got, 1<<20)
	}
	if f, ok := e.f.Table().Get(r); !ok || vfs.FIFOWaiting(f) {
		t.Errorf("non-blocking reader of a FIFO with a writer waits for one")
	} else {
		f.DecRef()
	}
}

package fdtable

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// event places a struct epoll_event in memory.
func (e *env) event(events uint32, data uint64) uint64 {
	return e.put(linux.EpollEvent{Events: events, Data: data}.Marshal())
}

// wait calls epoll_pwait with timeout ms and returns the events.
func (e *env) wait(epfd int32, max int32, timeout int32, intr <-chan struct{}) ([]linux.EpollEvent, int64) {
	buf := e.alloc(int(max) * linux.SizeofEpollEvent)
	n := e.f.EpollPwait(e.m, intr, epfd, buf, max, timeout)
	var out []linux.EpollEvent
	for i := 0; i < int(n); i++ {
		out = append(out, linux.UnmarshalEpollEvent(e.get(buf+uint64(i*linux.SizeofEpollEvent), linux.SizeofEpollEvent)))
	}
	return out, n
}

func (e *env) epoll() int32 {
	e.t.Helper()
	fd := e.f.EpollCreate1(linux.EpollCloexec)
	if fd < 0 {
		e.t.Fatalf("EpollCreate1 = %d", fd)
	}
	return int32(fd)
}

func TestEpollCtlErrors(t *testing.T) {
	e := newEnv(t)
	ep := e.epoll()
	r, _ := e.pipe(0)
	file := e.open("/etc/hosts", linux.ORdonly, 0)
	dir := e.open("/etc", linux.ORdonly, 0)
	in := e.event(linux.EpollIn, 1)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"create bad flags", e.f.EpollCreate1(1), neg(linux.EINVAL)},
		{"create size 0", e.f.EpollCreate(0), neg(linux.EINVAL)},
		{"add", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, r, in), 0},
		{"add again", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, r, in), neg(linux.EEXIST)},
		{"add regular file", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, file, in), neg(linux.EPERM)},
		{"add directory", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, dir, in), neg(linux.EPERM)},
		{"add itself", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, ep, in), neg(linux.EINVAL)},
		{"not an epoll", e.f.EpollCtl(e.m, r, linux.EpollCtlAdd, 0, in), neg(linux.EINVAL)},
		{"bad epfd", e.f.EpollCtl(e.m, 99, linux.EpollCtlAdd, r, in), neg(linux.EBADF)},
		{"bad fd", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, 99, in), neg(linux.EBADF)},
		{"bad event pointer", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, 0, badAddr), neg(linux.EFAULT)},
		{"del without event", e.f.EpollCtl(e.m, ep, linux.EpollCtlDel, r, badAddr), 0},
		{"del missing", e.f.EpollCtl(e.m, ep, linux.EpollCtlDel, r, 0), neg(linux.ENOENT)},
		{"mod missing", e.f.EpollCtl(e.m, ep, linux.EpollCtlMod, r, in), neg(linux.ENOENT)},
		{"bad op", e.f.EpollCtl(e.m, ep, 9, r, in), neg(linux.EINVAL)},
		{"exclusive add", e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, r, e.event(linux.EpollIn|linux.EpollExclusive, 0)), 0},
		{"exclusive mod", e.f.EpollCtl(e.m, ep, linux.EpollCtlMod, r, e.event(linux.EpollIn|linux.EpollExclusive, 0)), neg(linux.EINVAL)},
		{"wait maxevents 0", e.f.EpollPwait(e.m, nil, ep, e.alloc(12), 0, 0), neg(linux.EINVAL)},
		{"wait not an epoll", e.f.EpollPwait(e.m, nil, r, e.alloc(12), 1, 0), neg(linux.EINVAL)},
		{"wait bad fd", e.f.EpollPwait(e.m, nil, 99, e.alloc(12), 1, 0), neg(linux.EBADF)},
		{"wait2 bad timespec", e.f.EpollPwait2(e.m, nil, ep, e.alloc(12), 1, badAddr), neg(linux.EFAULT)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	ts := make([]byte, 16)
	binary.LittleEndian.PutUint64(ts[8:], 1e9)
	if n := e.f.EpollPwait2(e.m, nil, ep, e.alloc(12), 1, e.put(ts)); n != neg(linux.EINVAL) {
		t.Errorf("epoll_pwait2 with tv_nsec 1e9 = %d", n)
	}
}

func TestEpollLevelAndEdge(t *testing.T) {
	e := newEnv(t)
	ep := e.epoll()
	lr, lw := e.pipe(0)
	er, ew := e.pipe(0)
	or, ow := e.pipe(0)
	e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, lr, e.event(linux.EpollIn, 1))
	e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, er, e.event(linux.EpollIn|linux.EpollEt, 2))
	e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, or, e.event(linux.EpollIn|linux.EpollOneshot, 3))
	if evs, n := e.wait(ep, 8, 0, nil); n != 0 {
		t.Fatalf("nothing written, wait = %d %v", n, evs)
	}
	e.write(lw, "l")
	e.write(ew, "e")
	e.write(ow, "o")
	seen := func(evs []linux.EpollEvent) map[uint64]uint32 {
		m := map[uint64]uint32{}
		for _, ev := range evs {
			m[ev.Data] = ev.Events
		}
		return m
	}
	evs, _ := e.wait(ep, 8, 0, nil)
	if got := seen(evs); len(got) != 3 || got[1] != linux.EpollIn || got[2] != linux.EpollIn || got[3] != linux.EpollIn {
		t.Fatalf("first wait = %v, want all three readable", evs)
	}
	// Level-triggered stays; edge-triggered and one-shot do not.
	evs, _ = e.wait(ep, 8, 0, nil)
	if got := seen(evs); len(got) != 1 || got[1] == 0 {
		t.Errorf("second wait = %v, want only the level-triggered pipe", evs)
	}
	// New data is a new edge; a fired one-shot stays quiet until MOD.
	e.write(ew, "e")
	e.write(ow, "o")
	evs, _ = e.wait(ep, 8, 0, nil)
	if got := seen(evs); len(got) != 2 || got[1] == 0 || got[2] == 0 {
		t.Errorf("after new writes = %v, want level and edge", evs)
	}
	e.f.EpollCtl(e.m, ep, linux.EpollCtlMod, or, e.event(linux.EpollIn, 33))
	evs, _ = e.wait(ep, 8, 0, nil)
	if got := seen(evs); got[33] == 0 {
		t.Errorf("after MOD = %v, want the re-armed pipe with its new data", evs)
	}
	// maxevents limits one wait; the rest come next time.
	evs, _ = e.wait(ep, 1, 0, nil)
	if len(evs) != 1 {
		t.Errorf("wait with maxevents 1 = %v", evs)
	}
	// Reading everything makes level-triggered entries quiet.
	e.f.EpollCtl(e.m, ep, linux.EpollCtlDel, or, 0)
	e.read(lr, 10)
	if evs, n := e.wait(ep, 8, 0, nil); n != 0 {
		t.Errorf("after draining = %v", evs)
	}
	// Closing the writer reports EPOLLHUP although not asked for; a closed
	// descriptor's entry goes away.
	e.f.Close(lw)
	evs, _ = e.wait(ep, 8, 0, nil)
	if got := seen(evs); got[1]&linux.EpollHup == 0 {
		t.Errorf("after closing the writer = %v, want EPOLLHUP", evs)
	}
	e.f.Close(lr)
	if evs, n := e.wait(ep, 8, 0, nil); n != 0 {
		t.Errorf("after closing the watched descriptor = %v", evs)
	}
	// ...and the number can be watched again as a new file.
	r2, w2 := e.pipe(0)
	if r2 != lr {
		t.Fatalf("descriptor %d reused as %d", lr, r2)
	}
	if res := e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, r2, e.event(linux.EpollIn|linux.EpollRdhup, 7)); res != 0 {
		t.Errorf("add of a reused descriptor = %d", res)
	}
	e.f.Close(w2)
	evs, _ = e.wait(ep, 8, 0, nil)
	if got := seen(evs); got[7]&linux.EpollHup == 0 {
		t.Errorf("RDHUP entry after the writer closed = %v", evs)
	}
	// Writable ends and eventfds.
	ep2 := e.epoll()
	e.f.EpollCtl(e.m, ep2, linux.EpollCtlAdd, ew, e.event(linux.EpollOut, 8))
	efd := int32(e.f.Eventfd2(0, linux.EfdNonblock))
	e.f.EpollCtl(e.m, ep2, linux.EpollCtlAdd, efd, e.event(linux.EpollIn, 9))
	evs, _ = e.wait(ep2, 8, 0, nil)
	if got := seen(evs); got[8] != linux.EpollOut || got[9] != 0 {
		t.Errorf("write end and empty eventfd = %v", evs)
	}
	e.f.Write(e.m, nil, efd, e.put(binary.LittleEndian.AppendUint64(nil, 1)), 8)
	evs, _ = e.wait(ep2, 8, 0, nil)
	if got := seen(evs); got[9] != linux.EpollIn {
		t.Errorf("after eventfd write = %v", evs)
	}
	// A bad result buffer faults.
	if n := e.f.EpollPwait(e.m, nil, ep2, badAddr, 8, 0); n != neg(linux.EFAULT) {
		t.Errorf("wait into a bad buffer = %d", n)
	}
}

func TestEpollBlocking(t *testing.T) {
	e := newEnv(t)
	ep := e.epoll()
	r, w := e.pipe(0)
	e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, r, e.event(linux.EpollIn, 5))
	buf := e.alloc(4 * linux.SizeofEpollEvent)
	done := make(chan int64)
	go func() { done <- e.f.EpollPwait(e.m, nil, ep, buf, 4, -1) }()
	e.write(w, "x")
	if n := <-done; n != 1 || linux.UnmarshalEpollEvent(e.get(buf, 12)).Data != 5 {
		t.Errorf("blocked epoll_pwait = %d", n)
	}
	e.read(r, 1)
	intr := make(chan struct{})
	go func() { done <- e.f.EpollPwait(e.m, intr, ep, buf, 4, -1) }()
	close(intr)
	if n := <-done; n != neg(linux.EINTR) {
		t.Errorf("interrupted epoll_pwait = %d, want EINTR", n)
	}
	// Timeouts end the wait with no events.
	if n := e.f.EpollPwait(e.m, nil, ep, buf, 4, 1); n != 0 {
		t.Errorf("epoll_pwait with a 1 ms timeout = %d", n)
	}
	ts := make([]byte, 16)
	binary.LittleEndian.PutUint64(ts[8:], 1000)
	if n := e.f.EpollPwait2(e.m, nil, ep, buf, 4, e.put(ts)); n != 0 {
		t.Errorf("epoll_pwait2 with a 1 µs timeout = %d", n)
	}
	go func() { done <- e.f.EpollPwait2(e.m, nil, ep, buf, 4, 0) }()
	e.write(w, "y")
	if n := <-done; n != 1 {
		t.Errorf("blocked epoll_pwait2 = %d", n)
	}
}

func TestEpollNested(t *testing.T) {
	e := newEnv(t)
	outer, inner := e.epoll(), e.epoll()
	r, w := e.pipe(0)
	e.f.EpollCtl(e.m, inner, linux.EpollCtlAdd, r, e.event(linux.EpollIn, 1))
	if n := e.f.EpollCtl(e.m, outer, linux.EpollCtlAdd, inner, e.event(linux.EpollIn, 2)); n != 0 {
		t.Fatalf("add epoll to epoll = %d", n)
	}
	if n := e.f.EpollCtl(e.m, inner, linux.EpollCtlAdd, outer, e.event(linux.EpollIn, 3)); n != neg(linux.ELOOP) {
		t.Errorf("making a loop = %d, want ELOOP", n)
	}
	done := make(chan []linux.EpollEvent)
	go func() { evs, _ := e.wait(outer, 4, -1, nil); done <- evs }()
	e.write(w, "x")
	if evs := <-done; len(evs) != 1 || evs[0].Data != 2 {
		t.Errorf("outer epoll = %v, want the inner one readable", evs)
	}
}

func TestEpollConsole(t *testing.T) {
	in, feed := io.Pipe()
	e := newEnvWith(t, testFiles, vfs.Options{ConsoleIn: in})
	ep := e.epoll()
	if n := e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, 0, e.event(linux.EpollIn|linux.EpollEt, 0)); n != 0 {
		t.Fatalf("watch the console = %d", n)
	}
	if n := e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, 1, e.event(linux.EpollOut, 1)); n != 0 {
		t.Fatalf("watch the console for output = %d", n)
	}
	if evs, _ := e.wait(ep, 4, 0, nil); len(evs) != 1 || evs[0].Data != 1 {
		t.Errorf("console with no input = %v, want only writable", evs)
	}
	e.f.EpollCtl(e.m, ep, linux.EpollCtlDel, 1, 0)
	go feed.Write([]byte("k"))
	evs, _ := e.wait(ep, 4, -1, nil)
	if len(evs) != 1 || evs[0].Events&linux.EpollIn == 0 {
		t.Errorf("console with input = %v", evs)
	}
}

func TestPoll(t *testing.T) {
	e := newEnv(t)
	r, w := e.pipe(0)
	file := e.open("/etc/hosts", linux.ORdonly, 0)
	pollfds := func(fds ...[2]int32) uint64 {
		b := make([]byte, 8*len(fds))
		for i, f := range fds {
			binary.LittleEndian.PutUint32(b[8*i:], uint32(f[0]))
			binary.LittleEndian.PutUint16(b[8*i+4:], uint16(f[1]))
		}
		return e.put(b)
	}
	revents := func(addr uint64, i int) uint16 { return binary.LittleEndian.Uint16(e.get(addr+uint64(8*i)+6, 2)) }
	p := pollfds([2]int32{r, linux.EpollIn}, [2]int32{w, linux.EpollOut}, [2]int32{99, linux.EpollIn}, [2]int32{-1, linux.EpollIn}, [2]int32{file, linux.EpollIn | linux.EpollOut})
	if n := e.f.Poll(e.m, nil, p, 5, 0); n != 3 {
		t.Errorf("Poll = %d, want 3", n)
	}
	if revents(p, 0) != 0 || revents(p, 1) != linux.EpollOut || revents(p, 2) != linux.PollNval || revents(p, 3) != 0 ||
		revents(p, 4) != linux.EpollIn|linux.EpollOut {
		t.Errorf("revents = %#x %#x %#x %#x %#x", revents(p, 0), revents(p, 1), revents(p, 2), revents(p, 3), revents(p, 4))
	}
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"no descriptors", e.f.Poll(e.m, nil, 0, 0, 0), 0},
		{"no descriptors, 1 ms", e.f.Poll(e.m, nil, 0, 0, 1), 0},
		{"bad pointer", e.f.Poll(e.m, nil, badAddr, 1, 0), neg(linux.EFAULT)},
		{"too many", e.f.Poll(e.m, nil, p, 1<<40, 0), neg(linux.EINVAL)},
		{"ppoll bad timespec", e.f.Ppoll(e.m, nil, p, 1, badAddr), neg(linux.EFAULT)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// A blocked poll wakes when data arrives; ppoll is interrupted.
	only := pollfds([2]int32{r, linux.EpollIn})
	done := make(chan int64)
	go func() { done <- e.f.Poll(e.m, nil, only, 1, -1) }()
	e.write(w, "x")
	if n := <-done; n != 1 || revents(only, 0) != linux.EpollIn {
		t.Errorf("blocked poll = %d, revents %#x", n, revents(only, 0))
	}
	e.read(r, 1)
	intr := make(chan struct{})
	go func() { done <- e.f.Ppoll(e.m, intr, only, 1, 0) }()
	close(intr)
	if n := <-done; n != neg(linux.EINTR) {
		t.Errorf("interrupted ppoll = %d", n)
	}
	// Hang-up is reported even if not asked for.
	e.f.Close(w)
	hup := pollfds([2]int32{r, 0})
	if n := e.f.Poll(e.m, nil, hup, 1, -1); n != 1 || revents(hup, 0) != linux.EpollHup {
		t.Errorf("poll after the writer closed = %d, revents %#x", n, revents(hup, 0))
	}
}

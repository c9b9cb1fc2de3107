package kernel

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// fakePlatform stands in for the machine in host tests.
type fakePlatform struct {
	console []byte
	rnd     uint64
	status  int
	off     bool
}

func (p *fakePlatform) Name() string              { return "fake" }
func (p *fakePlatform) ConsoleWrite(b []byte)     { p.console = append(p.console, b...) }
func (p *fakePlatform) ConsoleRead(b []byte) int  { return 0 }
func (p *fakePlatform) TSCFrequency() uint64      { return 1e9 }
func (p *fakePlatform) WallClock() int64          { return 1_700_000_000 }
func (p *fakePlatform) TimerInit(uint8)           {}
func (p *fakePlatform) TimerArm(uint64)           {}
func (p *fakePlatform) EOI()                      {}
func (p *fakePlatform) HostExits() []hal.HostExit { return nil }
func (p *fakePlatform) PowerOff(status int)       { p.status, p.off = status, true }
func (p *fakePlatform) Random() (uint64, bool) {
	p.rnd = p.rnd*6364136223846793005 + 1
	return p.rnd, true
}

// hostPager backs kspace with host memory that is always there.
type hostPager struct{}

func (*hostPager) populate(va uintptr, write bool) bool {
	r, ok := kspace.Lookup(va)
	return ok && r.Prot != 0 && (!write || r.Prot&vmspace.Write != 0)
}
func (*hostPager) drop(start, end uintptr) {}

var hp hostPager

// setupHost points the kernel at a fake platform and a window of host
// memory, and returns the window.
func setupHost(t testing.TB) (base uintptr, mem []byte) {
	t.Helper()
	const size = 1 << 20
	buf := make([]byte, size+pageSize)
	p0 := uintptr(unsafe.Pointer(&buf[0]))
	off := (p0+pageSize-1)&^(pageSize-1) - p0
	mem = buf[off : off+size]
	base = p0 + off
	t.Cleanup(func() { _ = buf[0] }) // keep buf alive
	fp := &fakePlatform{}
	platform = fp
	kpager = &hp
	kspaceInit(base, base+size)
	imageStart, imageEnd = 0, 0
	initClock()
	threads.Init()
	kfds = [kfdMax]kfile{}
	sigactions = [linux.NSig + 1][4]uint64{}
	return base, mem
}

func call(nr uint64, args ...uint64) int64 {
	var f cpu.Frame
	f.RAX = nr
	regs := []*uint64{&f.RDI, &f.RSI, &f.RDX, &f.R10, &f.R8, &f.R9}
	for i, a := range args {
		*regs[i] = a
	}
	enterSyscall(&f)
	return int64(f.RAX)
}

func TestSyscallsOnHost(t *testing.T) {
	base, mem := setupHost(t)
	b := uint64(base)
	// mmap a read-write page and use it for the other calls.
	if got := call(linux.SysMmap, 0, 2*pageSize, 3, linux.MapPrivate|linux.MapAnonymous, ^uint64(0), 0); got != int64(base) {
		t.Fatalf("mmap = %#x, want %#x", got, base)
	}
	if got := call(linux.SysMmap, 0, pageSize, 3, linux.MapPrivate, 5, 0); got != -linux.ENODEV {
		t.Errorf("file mmap = %d, want ENODEV", got)
	}
	if got := call(linux.SysClockGettime, linux.ClockMonotonic, b); got != 0 {
		t.Errorf("clock_gettime = %d", got)
	}
	if got := call(linux.SysClockGettime, linux.ClockRealtime, b); got != 0 || binary.LittleEndian.Uint64(mem) < 1_700_000_000 {
		t.Errorf("clock_gettime(REALTIME) = %d, sec %d", got, binary.LittleEndian.Uint64(mem))
	}
	if got := call(linux.SysClockGettime, 99, b); got != -linux.EINVAL {
		t.Errorf("clock_gettime(99) = %d, want EINVAL", got)
	}
	if got := call(linux.SysClockGettime, 1, b+2*pageSize); got != -linux.EFAULT {
		t.Errorf("clock_gettime(unmapped) = %d, want EFAULT", got)
	}
	if got := call(linux.SysGetrandom, b, 100, 0); got != 100 {
		t.Errorf("getrandom = %d, want 100", got)
	}
	copy(mem, "hello\n")
	if got := call(linux.SysWrite, 1, b, 6); got != 6 || string(platform.(*fakePlatform).console) != "hello\n" {
		t.Errorf("write = %d, console %q", got, platform.(*fakePlatform).console)
	}
	if got := call(linux.SysWrite, 9, b, 6); got != -linux.EBADF {
		t.Errorf("write(9) = %d, want EBADF", got)
	}
	if got := call(linux.SysFutex, b+1, linux.FutexWait, 0, 0); got != -linux.EINVAL {
		t.Errorf("futex(unaligned) = %d, want EINVAL", got)
	}
	binary.LittleEndian.PutUint32(mem[64:], 7)
	if got := call(linux.SysFutex, b+64, linux.FutexWait|linux.FutexPrivateFlag, 8, 0); got != -linux.EAGAIN {
		t.Errorf("futex WAIT with stale value = %d, want EAGAIN", got)
	}
	if got := call(linux.SysFutex, b+64, linux.FutexWake|linux.FutexPrivateFlag, 1, 0); got != 0 {
		t.Errorf("futex WAKE with no waiters = %d, want 0", got)
	}
	if got := call(linux.SysRtSigaction, 9, b, 0, 8); got != -linux.EINVAL {
		t.Errorf("sigaction(SIGKILL) = %d, want EINVAL", got)
	}
	binary.LittleEndian.PutUint64(mem[256:], 0x1234)
	if got := call(linux.SysRtSigaction, 11, b+256, b+512, 8); got != 0 {
		t.Errorf("sigaction(SIGSEGV) = %d", got)
	}
	if got := call(linux.SysRtSigaction, 11, 0, b+512, 8); got != 0 || binary.LittleEndian.Uint64(mem[512:]) != 0x1234 {
		t.Errorf("sigaction old handler = %#x", binary.LittleEndian.Uint64(mem[512:]))
	}
	if got := call(linux.SysSchedGetaffinit, 0, 8, b); got != 8 || mem[0] != 1 {
		t.Errorf("sched_getaffinity = %d, mask %d", got, mem[0])
	}
	// eventfd + epoll: readiness after a write.
	ep, ev := call(linux.SysEpollCreate1, 0), call(linux.SysEventfd2, 0, 0)
	binary.LittleEndian.PutUint32(mem[1024:], linux.EpollIn)
	binary.LittleEndian.PutUint64(mem[1028:], 0xfeed)
	if got := call(linux.SysEpollCtl, uint64(ep), linux.EpollCtlAdd, uint64(ev), b+1024); got != 0 {
		t.Fatalf("epoll_ctl = %d", got)
	}
	if got := call(linux.SysEpollPwait, uint64(ep), b+2048, 8, 0); got != 0 {
		t.Errorf("epoll_pwait before write = %d, want 0", got)
	}
	binary.LittleEndian.PutUint64(mem[0:], 1)
	if got := call(linux.SysWrite, uint64(ev), b, 8); got != 8 {
		t.Errorf("eventfd write = %d", got)
	}
	if got := call(linux.SysEpollPwait, uint64(ep), b+2048, 8, 0); got != 1 || binary.LittleEndian.Uint64(mem[2052:]) != 0xfeed {
		t.Errorf("epoll_pwait after write = %d, data %#x", got, binary.LittleEndian.Uint64(mem[2052:]))
	}
	if got := call(linux.SysRead, uint64(ev), b, 8); got != 8 || binary.LittleEndian.Uint64(mem) != 1 {
		t.Errorf("eventfd read = %d", got)
	}
	if got := call(linux.SysRead, uint64(ev), b, 8); got != -linux.EAGAIN {
		t.Errorf("eventfd read when empty = %d, want EAGAIN", got)
	}
	if got := call(linux.SysMunmap, b, 2*pageSize); got != 0 {
		t.Errorf("munmap = %d", got)
	}
	if got := call(linux.SysGetrandom, b, 8, 0); got != -linux.EFAULT {
		t.Errorf("getrandom after munmap = %d, want EFAULT", got)
	}
	before := platform.(*fakePlatform).console
	if got := call(400); got != -linux.ENOSYS {
		t.Errorf("syscall 400 = %d, want ENOSYS", got)
	}
	call(400)
	if n := len(platform.(*fakePlatform).console) - len(before); n == 0 {
		t.Error("unknown system call not reported")
	}
}

// FuzzSyscall feeds arbitrary system calls to the kernel runtime's
// dispatcher: every one must come back with an errno or a result, never a
// crash. Pointer arguments can be steered into the mapped window.
func FuzzSyscall(f *testing.F) {
	f.Add(uint16(9), uint8(0), uint64(0), uint64(4096), uint64(3), uint64(0x22), uint64(0), uint64(0))
	f.Add(uint16(202), uint8(1), uint64(64), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(228), uint8(2), uint64(1), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(13), uint8(6), uint64(11), uint64(0), uint64(8), uint64(8), uint64(0), uint64(0))
	f.Add(uint16(56), uint8(0), uint64(0x50f00), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, nr uint16, inWindow uint8, a0, a1, a2, a3, a4, a5 uint64) {
		base, _ := setupHost(t)
		call(linux.SysMmap, 0, 64*pageSize, 3, linux.MapPrivate|linux.MapAnonymous, ^uint64(0), 0)
		args := []uint64{a0, a1, a2, a3, a4, a5}
		for i := range args {
			if inWindow&(1<<i) != 0 {
				args[i] = uint64(base) + args[i]%(80*pageSize)
			}
		}
		if nr == linux.SysExitGroup || nr == linux.SysExit {
			return // these stop the machine
		}
		var fr cpu.Frame
		fr.RAX = uint64(nr)
		fr.RDI, fr.RSI, fr.RDX, fr.R10, fr.R8, fr.R9 = args[0], args[1], args[2], args[3], args[4], args[5]
		enterSyscall(&fr)
		reschedule(&fr)
		r := int64(fr.RAX)
		if r < 0 && r < -4095 && nr != linux.SysMmap {
			t.Fatalf("syscall %d returned %d: neither a result nor an errno", nr, r)
		}
		running := 0
		for i := range threads.T {
			if threads.T[i].State == 2 {
				running++
			}
		}
		if running > 1 {
			t.Fatalf("%d threads marked running", running)
		}
	})
}

// TestEpollEventfds: an epoll instance watches the runtime's eventfd
// (level-triggered) and the network interrupt's (EPOLLET, as Go's
// netpoller registers a pollable file) together; the edge-triggered one
// is reported once per write, the level-triggered one while its counter
// is non-zero; F_GETFL shows EFD_NONBLOCK as O_NONBLOCK, which makes
// os.NewFile put the descriptor in the netpoller.
func TestEpollEventfds(t *testing.T) {
	base, mem := setupHost(t)
	b := uint64(base)
	call(linux.SysMmap, 0, pageSize, 3, linux.MapPrivate|linux.MapAnonymous, ^uint64(0), 0)
	ep := call(linux.SysEpollCreate1, 0)
	level := call(linux.SysEventfd2, 0, 0)
	edge := call(linux.SysEventfd2, 0, linux.EfdNonblock|linux.EfdCloexec)
	if got := call(linux.SysFcntl, uint64(edge), 3); got != 2|linux.ONonblock {
		t.Errorf("F_GETFL of a non-blocking eventfd = %#x, want O_RDWR|O_NONBLOCK", got)
	}
	if got := call(linux.SysFcntl, uint64(level), 3); got != 2 {
		t.Errorf("F_GETFL of a blocking eventfd = %#x, want O_RDWR", got)
	}
	add := func(fd int64, events uint32, data uint64) int64 {
		binary.LittleEndian.PutUint32(mem[1024:], events)
		binary.LittleEndian.PutUint64(mem[1028:], data)
		return call(linux.SysEpollCtl, uint64(ep), linux.EpollCtlAdd, uint64(fd), b+1024)
	}
	if got := add(level, linux.EpollIn, 0x1e7e1); got != 0 {
		t.Fatalf("epoll_ctl ADD level = %d", got)
	}
	if got := add(edge, linux.EpollIn|linux.EpollOut|linux.EpollRdhup|linux.EpollEt, 0xed6e); got != 0 {
		t.Fatalf("epoll_ctl ADD edge = %d", got)
	}
	if got := add(edge, linux.EpollIn, 1); got != -linux.EEXIST {
		t.Errorf("second ADD = %d, want EEXIST", got)
	}
	wait := func() []uint64 {
		n := call(linux.SysEpollPwait, uint64(ep), b+2048, 8, 0)
		var data []uint64
		for i := int64(0); i < n; i++ {
			if ev := binary.LittleEndian.Uint32(mem[2048+12*i:]); ev != linux.EpollIn {
				t.Errorf("event %#x, want EPOLLIN", ev)
			}
			data = append(data, binary.LittleEndian.Uint64(mem[2048+12*i+4:]))
		}
		return data
	}
	write := func(fd int64) {
		binary.LittleEndian.PutUint64(mem[0:], 1)
		if got := call(linux.SysWrite, uint64(fd), b, 8); got != 8 {
			t.Fatalf("eventfd write = %d", got)
		}
	}
	if got := wait(); len(got) != 0 {
		t.Errorf("ready before any write: %x", got)
	}
	write(edge)
	write(level)
	if got := wait(); len(got) != 2 || got[0] != 0x1e7e1 || got[1] != 0xed6e {
		t.Errorf("after writes to both: %x, want [1e7e1 ed6e]", got)
	}
	// Not read: the level-triggered one is still ready, the edge one
	// was reported for its write.
	if got := wait(); len(got) != 1 || got[0] != 0x1e7e1 {
		t.Errorf("again without reads: %x, want [1e7e1]", got)
	}
	write(edge)
	if got := wait(); len(got) != 2 || got[1] != 0xed6e {
		t.Errorf("after a second write to the edge-triggered one: %x", got)
	}
	call(linux.SysRead, uint64(level), b, 8)
	call(linux.SysRead, uint64(edge), b, 8)
	if got := wait(); len(got) != 0 {
		t.Errorf("after reading both: %x", got)
	}
	binary.LittleEndian.PutUint32(mem[1024:], linux.EpollIn)
	if got := call(linux.SysEpollCtl, uint64(ep), linux.EpollCtlDel, uint64(edge), b+1024); got != 0 {
		t.Errorf("epoll_ctl DEL = %d", got)
	}
	write(edge)
	if got := wait(); len(got) != 0 {
		t.Errorf("a deleted watch reported: %x", got)
	}
}

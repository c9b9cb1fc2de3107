package kernel

// The Linux system calls of the kernel's own Go runtime (see
// shared/reference/go/RUNTIME-SYSCALLS.md for what go1.26 asks). Trap
// context. Arguments are untrusted in the sense that a wrong one must give
// an errno, never a fault: every pointer goes through accessible.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/kernel/sched"
)

// blocked is returned by a handler that blocked the thread: its result is
// filled in when it wakes.
const blocked = -1 << 62

// Counters, for tests and benchmarks.
var (
	syscallCount  [512]uint32
	reported      [512 / 64]uint64
	clonesStarted int
)

// handleSyscall serves a system call. The private calls (user mode's
// address-space and entry services) go straight to privateSyscall rather
// than through dispatch, so that their deep call chains into the page
// tables do not also carry dispatch's frame: the nosplit stack limit then
// holds with room to spare, also in fuzzing builds (go test -fuzz), whose
// instrumentation grows every frame.
//
//go:nosplit
func handleSyscall(f *cpu.Frame) {
	var r int64
	if f.RAX >= sysPrivate {
		if f.RAX < uint64(len(syscallCount)) {
			syscallCount[f.RAX]++
		}
		if f.RAX != sysSpacePage {
			ptGen++ // may change application page tables (pageCache)
		}
		r = privateSyscall(f)
	} else {
		r = dispatch(f)
	}
	if r != blocked {
		f.RAX = uint64(r)
	}
}

//go:nosplit
func dispatch(f *cpu.Frame) int64 {
	nr := f.RAX
	a0, a1, a2, a3, a4 := f.RDI, f.RSI, f.RDX, f.R10, f.R8
	if nr < uint64(len(syscallCount)) {
		syscallCount[nr]++
	}
	switch nr {
	case linux.SysRead:
		return sysRead(int64(a0), uintptr(a1), uintptr(a2))
	case linux.SysWrite:
		return sysWrite(int64(a0), uintptr(a1), uintptr(a2))
	case linux.SysClose:
		return sysClose(int64(a0))
	case linux.SysMmap:
		if a3&linux.MapAnonymous == 0 && int32(a4) != -1 {
			return -linux.ENODEV
		}
		return sysMmap(uintptr(a0), uintptr(a1), a2, a3)
	case linux.SysMunmap:
		return sysMunmap(uintptr(a0), uintptr(a1))
	case linux.SysMadvise:
		return sysMadvise(uintptr(a0), uintptr(a1), a2)
	case linux.SysRtSigaction:
		return sysRtSigaction(a0, uintptr(a1), uintptr(a2), a3)
	case linux.SysRtSigprocmask:
		return sysRtSigprocmask(a0, uintptr(a1), uintptr(a2), a3)
	case linux.SysSigaltstack:
		return sysSigaltstack(uintptr(a0), uintptr(a1))
	case linux.SysSchedYield:
		f.RAX = 0
		threads.Cur().Frame = *f // like block: reschedule expects it saved
		threads.Yield()
		return 0
	case linux.SysNanosleep:
		return sysNanosleep(f, linux.ClockMonotonic, 0, uintptr(a0))
	case linux.SysClockNanosleep:
		return sysNanosleep(f, a0, a1, uintptr(a2))
	case linux.SysGetpid:
		return 1
	case linux.SysGettid:
		return int64(threads.Cur().Tid)
	case linux.SysClone:
		return sysClone(f, a0, uintptr(a1), uintptr(a2), uintptr(a3), a4)
	case linux.SysExit:
		return sysExit()
	case linux.SysExitGroup:
		powerOff(kernelExitStatus(int(int32(a0)) & 0xff))
		return 0
	case linux.SysFcntl:
		return sysFcntl(int64(a0), a1)
	case linux.SysArchPrctl:
		return sysArchPrctl(a0, uintptr(a1))
	case linux.SysFutex:
		return sysFutex(f, uintptr(a0), a1, uint32(a2), uintptr(a3))
	case linux.SysSchedGetaffinit:
		// One vCPU: mask with bit 0; the return value is the mask size.
		if a1 < 8 {
			return -linux.EINVAL
		}
		if !put64(uintptr(a2), 1) {
			return -linux.EFAULT
		}
		return 8
	case linux.SysClockGettime:
		return sysClockGettime(a0, uintptr(a1))
	case linux.SysTgkill:
		// Signals are not delivered to the kernel's own threads; the kernel
		// is built with asyncpreemptoff=1 so its runtime sends none.
		return 0
	case linux.SysOpenat:
		return -linux.ENOENT
	case linux.SysPread64:
		return -linux.EBADF
	case linux.SysIoctl:
		return -linux.ENOTTY
	case linux.SysPrctl:
		return -linux.EINVAL
	case linux.SysPrlimit64:
		return sysPrlimit(a1, uintptr(a2), uintptr(a3))
	case linux.SysGetrandom:
		return sysGetrandom(uintptr(a0), uintptr(a1))
	case linux.SysEventfd2:
		return sysEventfd2(a0, a1)
	case linux.SysEpollCreate1:
		return sysEpollCreate()
	case linux.SysEpollCtl:
		return sysEpollCtl(int64(a0), a1, int64(a2), uintptr(a3))
	case linux.SysEpollPwait:
		return sysEpollPwait(f, int64(a0), uintptr(a1), int64(int32(a2)), int64(int32(a3)))
	}
	reportUnknown(nr)
	return -linux.ENOSYS
}

// reportUnknown prints an unimplemented system call once.
//
//go:nosplit
func reportUnknown(nr uint64) {
	if nr < 512 {
		if reported[nr/64]&(1<<(nr%64)) != 0 {
			return
		}
		reported[nr/64] |= 1 << (nr % 64)
	}
	kprint("cocoon: kernel runtime called unimplemented system call ")
	kprintDec(int64(nr))
	if name := linux.SyscallName(nr); name != "" {
		kprint(" (")
		kprint(name)
		kprint(")")
	}
	kprint(": ENOSYS\n")
}

//go:nosplit
func put64(addr uintptr, v uint64) bool {
	if !accessible(addr, 8, true) {
		return false
	}
	*cpu.Ptr64(addr) = v
	return true
}

//go:nosplit
func put32(addr uintptr, v uint32) bool {
	if !accessible(addr, 4, true) {
		return false
	}
	*cpu.Ptr32(addr) = v
	return true
}

//go:nosplit
func get64(addr uintptr) (uint64, bool) {
	if !accessible(addr, 8, false) {
		return 0, false
	}
	return *cpu.Ptr64(addr), true
}

//go:nosplit
func get32(addr uintptr) (uint32, bool) {
	if !accessible(addr, 4, false) {
		return 0, false
	}
	return *cpu.Ptr32(addr), true
}

// getTimespec reads a struct timespec (two 64-bit words) as nanoseconds;
// errno is EFAULT or EINVAL for a bad one.
//
//go:nosplit
func getTimespec(addr uintptr) (ns int64, errno int64) {
	sec, ok1 := get64(addr)
	nsec, ok2 := get64(addr + 8)
	if !ok1 || !ok2 {
		return 0, linux.EFAULT
	}
	if int64(sec) < 0 || nsec >= 1_000_000_000 {
		return 0, linux.EINVAL
	}
	if sec > 1<<32 { // ~136 years: far enough to mean "forever"
		sec = 1 << 32
	}
	return int64(sec)*1_000_000_000 + int64(nsec), 0
}

//go:nosplit
func sysWrite(fd int64, buf, n uintptr) int64 {
	if fd == 1 || fd == 2 {
		if !accessible(buf, n, false) {
			return -linux.EFAULT
		}
		if fd == 2 {
			kernelStderr(cpu.Bytes(buf, n))
		} else {
			platform.ConsoleWrite(cpu.Bytes(buf, n))
		}
		return int64(n)
	}
	return kfdWrite(fd, buf, n)
}

//go:nosplit
func sysRead(fd int64, buf, n uintptr) int64 {
	if fd == 0 {
		if !accessible(buf, n, true) {
			return -linux.EFAULT
		}
		return int64(platform.ConsoleRead(cpu.Bytes(buf, n)))
	}
	return kfdRead(fd, buf, n)
}

//go:nosplit
func sysFcntl(fd int64, cmd uint64) int64 {
	const fGetfd, fGetfl, oRdwr = 1, 3, 2 // include/uapi/asm-generic/fcntl.h
	if fd < 0 || fd > 2 && kfdGet(fd) == nil {
		return -linux.EBADF
	}
	if cmd == fGetfl {
		if k := kfdGet(fd); k != nil && k.kind == kfdEvent {
			return oRdwr | int64(k.flags&linux.EfdNonblock)
		}
		return oRdwr
	}
	return 0
}

//go:nosplit
func sysArchPrctl(code uint64, addr uintptr) int64 {
	cur := threads.Cur()
	switch code {
	case linux.ArchSetFS:
		if addr >= 1<<47 {
			return -linux.EPERM // not canonical: WRMSR would #GP
		}
		cur.FSBase = uint64(addr)
		fsWant = uint64(addr)
		kernelFS = uint64(addr)
		return 0
	case linux.ArchGetFS:
		if !put64(addr, cur.FSBase) {
			return -linux.EFAULT
		}
		return 0
	}
	return -linux.EINVAL
}

//go:nosplit
func sysClockGettime(clock uint64, ts uintptr) int64 {
	var ns int64
	switch clock {
	case linux.ClockRealtime, linux.ClockRealtimeCoarse:
		ns = walltime()
	case linux.ClockMonotonic, linux.ClockMonotonicRaw, linux.ClockMonotonicCoars,
		linux.ClockBoottime, linux.ClockProcessCPUTime, linux.ClockThreadCPUTime:
		ns = nanotime()
	default:
		return -linux.EINVAL
	}
	if !accessible(ts, 16, true) {
		return -linux.EFAULT
	}
	*cpu.Ptr64(ts) = uint64(ns / 1_000_000_000)
	*cpu.Ptr64(ts + 8) = uint64(ns % 1_000_000_000)
	return 0
}

// sysNanosleep sleeps for (or, with TIMER_ABSTIME, until) the timespec at
// req. Sleeps are not interrupted by signals; rem is never written.
//
//go:nosplit
func sysNanosleep(f *cpu.Frame, clock, flags uint64, req uintptr) int64 {
	const timerAbstime = 1
	d, errno := getTimespec(req)
	if errno != 0 {
		return -errno
	}
	now := nanotime()
	deadline := now + d
	if flags&timerAbstime != 0 {
		switch clock {
		case linux.ClockRealtime:
			deadline = d - walltime() + now
		case linux.ClockMonotonic, linux.ClockBoottime:
			deadline = d
		default:
			return -linux.EINVAL
		}
	} else if clock != linux.ClockRealtime && clock != linux.ClockMonotonic && clock != linux.ClockBoottime {
		return -linux.EINVAL
	}
	if deadline <= now {
		return 0
	}
	block(f, 0, deadline, 0, -1)
	return blocked
}

//go:nosplit
func sysFutex(f *cpu.Frame, addr uintptr, op uint64, val uint32, timeout uintptr) int64 {
	cmd := op &^ (linux.FutexPrivateFlag | linux.FutexClockRealtime)
	if addr%4 != 0 {
		return -linux.EINVAL
	}
	switch cmd {
	case linux.FutexWait:
		cur, ok := get32(addr)
		if !ok {
			return -linux.EFAULT
		}
		if cur != val {
			return -linux.EAGAIN
		}
		var deadline int64
		if timeout != 0 {
			d, errno := getTimespec(timeout)
			if errno != 0 {
				return -errno
			}
			if d == 0 {
				return -linux.ETIMEDOUT
			}
			deadline = nanotime() + d
		}
		block(f, addr, deadline, -linux.ETIMEDOUT, -1)
		return blocked
	case linux.FutexWake:
		if _, ok := get32(addr); !ok {
			return -linux.EFAULT
		}
		n := int(val)
		if int32(val) < 0 {
			n = sched.MaxThreads
		}
		return int64(threads.Wake(addr, n))
	}
	return -linux.ENOSYS
}

//go:nosplit
func sysClone(f *cpu.Frame, flags uint64, stack, ptid, ctid uintptr, tls uint64) int64 {
	const parentSettid, childCleartid, childSettid = 0x100000, 0x200000, 0x1000000
	if flags&(linux.CloneVM|linux.CloneThread) != linux.CloneVM|linux.CloneThread {
		return -linux.EINVAL // the kernel's runtime only makes threads
	}
	if flags&parentSettid != 0 && !accessible(ptid, 4, true) ||
		flags&(childSettid|childCleartid) != 0 && !accessible(ctid, 4, true) {
		return -linux.EFAULT
	}
	parent := threads.Cur()
	i := threads.Spawn()
	if i < 0 {
		return -linux.EAGAIN
	}
	c := &threads.T[i]
	c.Frame = *f
	c.Frame.RAX = 0
	if stack != 0 {
		c.Frame.RSP = uint64(stack)
	}
	c.FSBase = parent.FSBase
	if flags&linux.CloneSettls != 0 {
		c.FSBase = tls
	}
	c.SigMask = parent.SigMask
	if flags&childCleartid != 0 {
		c.ClearTID = ctid
	}
	if flags&parentSettid != 0 {
		put32(ptid, uint32(c.Tid))
	}
	if flags&childSettid != 0 {
		put32(ctid, uint32(c.Tid))
	}
	clonesStarted++
	return int64(c.Tid)
}

//go:nosplit
func sysExit() int64 {
	cur := threads.Cur()
	if cur.ClearTID != 0 && put32(cur.ClearTID, 0) {
		threads.Wake(cur.ClearTID, 1)
	}
	threads.Exit()
	if threads.Live() == 0 {
		powerOff(0)
	}
	return blocked
}

//go:nosplit
func sysPrlimit(resource uint64, newLim, oldLim uintptr) int64 {
	if resource > 15 {
		return -linux.EINVAL
	}
	if newLim != 0 && !accessible(newLim, 16, false) {
		return -linux.EFAULT
	}
	if oldLim != 0 {
		// Unlimited, except open files: Go raises its soft limit to the
		// hard one when they differ, so report them equal.
		v := ^uint64(0)
		if resource == linux.RlimitNofile {
			v = 1 << 20
		}
		if !put64(oldLim, v) || !put64(oldLim+8, v) {
			return -linux.EFAULT
		}
	}
	return 0
}

//go:nosplit
func sysGetrandom(buf, n uintptr) int64 {
	if n > 1<<25-1 {
		n = 1<<25 - 1 // Linux caps one call at 32 MiB - 1
	}
	if !accessible(buf, n, true) {
		return -linux.EFAULT
	}
	b := cpu.Bytes(buf, n)
	for i := 0; i < len(b); i += 8 {
		v, ok := platform.Random()
		if !ok {
			if i == 0 {
				return -linux.EAGAIN
			}
			return int64(i)
		}
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return int64(n)
}

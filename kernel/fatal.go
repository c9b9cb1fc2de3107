package kernel

// How failures end: a bug in the kernel (its Go runtime's panics and
// fatal errors, on the runtime's standard error) is announced with a
// "Cocoon kernel bug" banner and powers off with ExitKernelFault; an
// application whose threads are all blocked forever is reported as such,
// with the system call each thread is blocked in, and powers off with
// ExitDeadlock. Trap context: //go:nosplit, no allocation.
//
// The application's own output never reaches the kernel's file
// descriptor 2 (north writes it to fd 1), so fd 2 is the kernel
// runtime's alone, and what the runtime prints there first says why it
// is dying. "all goroutines are asleep - deadlock!" is its detector
// (runtime.checkdead) finding that no goroutine can ever run again: no
// timer pending, no thread in a system call that an interrupt could end.
// With every application thread served by a goroutine of the kernel, that
// is the application blocked forever (a pipe nobody drains, a futex
// nobody wakes), not a kernel bug.

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// ExitDeadlock is the exit status when every thread of the application
// is blocked forever and nothing can wake any of them.
const ExitDeadlock = 125

// MaxAppThreads bounds the application threads the deadlock report
// names (threads beyond it are counted).
const MaxAppThreads = 64

// appThreads holds what each application thread is doing, kept by north
// (AppThreadStart, AppThreadSyscall, AppThreadEnd): its tid (0 = free
// slot) and the system call it is in, or -1 while it runs in user mode.
var appThreads [MaxAppThreads]struct {
	tid int32
	nr  int64
}

var appThreadsLost int // started without a slot

// AppThreadStart records a new application thread and returns its slot
// for AppThreadSyscall and AppThreadEnd: 1 or more, or 0 (no slot) if
// all are taken.
//
//go:nosplit
func AppThreadStart(tid int32) int {
	for i := range appThreads {
		if appThreads[i].tid == 0 {
			appThreads[i].tid, appThreads[i].nr = tid, -1
			return i + 1
		}
	}
	appThreadsLost++
	return 0
}

// AppThreadSyscall records that the thread in slot is in system call nr
// (-1: back in user mode).
//
//go:nosplit
func AppThreadSyscall(slot int, nr int64) {
	if uint(slot-1) < MaxAppThreads {
		appThreads[slot-1].nr = nr
	}
}

// AppThreadEnd forgets the thread in slot.
//
//go:nosplit
func AppThreadEnd(slot int) {
	if uint(slot-1) < MaxAppThreads {
		appThreads[slot-1].tid = 0
	} else if appThreadsLost > 0 {
		appThreadsLost--
	}
}

// The kernel runtime's standard error: the first line is held back
// (errLine) until it says what it is; errBug is set once the banner is out.
var (
	errLine [160]byte
	errLen  int
	errBug  bool
)

// kernelStderr writes what the kernel's runtime writes to fd 2.
//
//go:nosplit
func kernelStderr(b []byte) {
	if errBug || errLen < 0 {
		platform.ConsoleWrite(b)
		return
	}
	n := copy(errLine[errLen:], b)
	errLen += n
	line := errLine[:errLen]
	nl := false
	for _, c := range line {
		nl = nl || c == '\n'
	}
	if !nl && errLen < len(errLine) {
		return
	}
	switch {
	case hasPrefix(line, "fatal error: all goroutines are asleep - deadlock!"):
		appDeadlock()
	case hasPrefix(line, "panic: ") || hasPrefix(line, "fatal error: ") ||
		hasPrefix(line, "fatal: ") || hasPrefix(line, "runtime: "):
		kernelBugBanner()
		kprint("The kernel's runtime stopped it; the stack follows.\n\n")
		errBug = true
	default:
		errLen = -1 // an ordinary message: pass everything through
	}
	platform.ConsoleWrite(line)
	platform.ConsoleWrite(b[n:])
}

// kernelBugBanner opens the report of a failure of the kernel itself,
// whatever the application did.
//
//go:nosplit
func kernelBugBanner() {
	kprint("\n==================== Cocoon kernel bug ====================\n")
	kprint("The kernel itself failed, not the application. Please report this\n")
	kprint("with the console output.\n")
}

//go:nosplit
func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// kernelExitStatus is the status the kernel runtime's exit_group ends
// the machine with: a runtime that announced a bug exits 2, which must
// not read as the application's own exit status 2.
//
//go:nosplit
func kernelExitStatus(status int) int {
	if errBug {
		kprint("\ncocoon: kernel bug (runtime exit status ")
		kprintDec(int64(status))
		kprint(")\n")
		return ExitKernelFault
	}
	return status
}

// appDeadlock reports the application's threads and what each is
// blocked in, and powers off with ExitDeadlock.
//
//go:nosplit
func appDeadlock() {
	kprint("\ncocoon: application deadlock: every thread is blocked forever and nothing can wake it\n")
	for i := range appThreads {
		t := &appThreads[i]
		if t.tid == 0 {
			continue
		}
		kprint("cocoon:   tid ")
		kprintDec(int64(t.tid))
		if t.nr < 0 {
			kprint(" not in a system call\n")
			continue
		}
		kprint(" blocked in ")
		if name := linux.SyscallName(uint64(t.nr)); name != "" {
			kprint(name)
		} else {
			kprint("system call ")
			kprintDec(t.nr)
		}
		kprint("\n")
	}
	if appThreadsLost > 0 {
		kprint("cocoon:   and ")
		kprintDec(int64(appThreadsLost))
		kprint(" more threads\n")
	}
	powerOff(ExitDeadlock)
}

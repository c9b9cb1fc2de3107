package north

import (
	"fmt"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// handler serves one system call with arguments a. It returns the result
// or a negated errno, or noReturn when it set the registers itself
// (rt_sigreturn, a thread that exited). a is the task's own argument
// array, valid until the next system call; handlers read it and do not
// keep it.
type handler func(t *Task, a *[6]uint64) int64

const noReturn = int64(-1 << 62)

// syscalls is the system call table, filled by the sys_*.go files.
var syscalls [512]handler

func register(nr uint64, h handler) {
	if syscalls[nr] != nil {
		panic(fmt.Sprintf("north: system call %d registered twice", nr))
	}
	syscalls[nr] = h
}

// call is an entry of a file's table of the system calls it serves.
type call struct {
	nr uint64
	h  handler
}

// registerAll registers a file's table. The tables are static data (their
// handlers are functions or closures that capture nothing), so filling
// syscalls is this one loop, which QEMU's TCG translates once; a
// register call per system call in init code cost a translated block or
// two each at every boot (about 260 before the kernel's main).
func registerAll(calls []call) {
	for _, c := range calls {
		register(c.nr, c.h)
	}
}

// syscall serves the system call the thread just made: the number in
// EAX, the arguments in RDI, RSI, RDX, R10, R8 and R9, the result back in
// RAX. It returns the result, or noReturn when the handler set the
// registers itself. Unimplemented calls give ENOSYS, are counted and
// reported once.
func (t *Task) syscall() int64 {
	f := &t.regs.Frame
	// Linux takes the number from the low 32 bits of RAX, sign-extended
	// to an int (arch/x86/entry/entry_64.S: movslq %eax; do_syscall_64):
	// 0x1_0000_0027 is getpid, numbers with bit 31 set are ENOSYS.
	nr := uint64(uint32(f.RAX))
	a := &t.args
	a[0], a[1], a[2], a[3], a[4], a[5] = f.RDI, f.RSI, f.RDX, f.R10, f.R8, f.R9
	p := t.p
	if sf := t.seccomp.Load(); sf != nil {
		if r, skip := t.seccompEnter(sf, nr, a); skip {
			if r != noReturn {
				f.RAX = uint64(r)
				// Not a restart: the filter's errno is the result.
				t.lastNr, t.lastResult = nr, 0
			}
			return r
		}
	}
	p.syscalls.Add(1)
	if nr == linux.SysWrite {
		kernel.Mark(kernel.PhaseAppMain) // the first write: the application's main (boot timeline)
	}
	var r int64
	kernel.AppThreadSyscall(t.slot, int64(nr))
	t.inCall.Store(int64(nr) + 1)
	t.publishMask()
	jr, handled := int64(0), false
	if jobCall(nr) {
		jr, handled = t.jobControl(nr, a)
	}
	if handled || jr != 0 {
		r = jr
	} else if nr < uint64(len(syscalls)) && syscalls[nr] != nil {
		r = syscalls[nr](t, a)
	} else {
		r = p.unhandled(t, nr, a)
	}
	t.inCall.Store(0)
	p.w.load.wake()
	t.accountIO(nr, r)
	kernel.AppThreadSyscall(t.slot, -1)
	t.publishMask()
	if waits(nr) {
		p.nvcsw.Add(1)
	} else {
		t.sysFrom = t.regs.ExitTSC // charged when the thread next runs
	}
	if p.cfg.Trace != nil {
		t.trace(nr, a, r)
	}
	if r == noReturn {
		return r
	}
	f.RAX = uint64(r)
	t.lastNr, t.lastResult = nr, r
	if r == -linux.EPIPE && sendsSIGPIPE(nr, a) {
		// Writing to a pipe with no reader (pipe(7)), or to a socket
		// that cannot send any more (socket(7)).
		p.send(t, sigInfo{signo: linux.SigPipe, code: linux.SiUser, pid: p.pid})
	}
	return r
}

// publishMask makes the signal mask visible to other threads (blocked)
// if it changed.
func (t *Task) publishMask() {
	if t.blocked.Load() != t.sigMask {
		t.blocked.Store(t.sigMask)
	}
}

// sendsSIGPIPE reports whether an EPIPE from system call nr with
// arguments a comes with SIGPIPE: the writes (write, pwrite64, writev,
// pwritev, pwritev2, sendfile), and the socket sends (sendto, sendmsg, sendmmsg)
// without MSG_NOSIGNAL.
func sendsSIGPIPE(nr uint64, a *[6]uint64) bool {
	const msgNosignal = 0x4000 // include/linux/socket.h
	switch nr {
	case linux.SysWrite, 18, 20, 40, 296:
		return true
	case 44, 307: // sendto, sendmmsg: flags in the fourth argument
		return a[3]&msgNosignal == 0
	case 46: // sendmsg
		return a[2]&msgNosignal == 0
	case 328: // pwritev2 without RWF_NOSIGNAL (include/uapi/linux/fs.h)
		return a[5]&0x100 == 0
	case 276, 278: // tee, vmsplice (fs/splice.c: a pipe without readers)
		return true
	}
	return false
}

// restartable reports whether system call nr, interrupted by a signal
// whose handler has SA_RESTART, runs again after the handler (signal(7),
// "Interruption of system calls and library functions by signal
// handlers"): the sleeps and the I/O multiplexers never are.
func restartable(nr uint64) bool {
	switch nr {
	case linux.SysNanosleep, linux.SysClockNanosleep, 7, 23, 232, linux.SysEpollPwait, 441, 270, 271, 34, 130, 128, 65, 220, 69, 70:
		// nanosleep, clock_nanosleep, poll, select, epoll_wait, epoll_pwait,
		// epoll_pwait2, pselect6, ppoll, pause, rt_sigsuspend,
		// rt_sigtimedwait, semop, semtimedop, msgsnd, msgrcv (System V
		// IPC: never restarted, signal(7)); fcntl's F_SETLKW and F_OFD_SETLKW, like flock,
		// are restarted (fs/locks.c: ERESTARTSYS)
		return false
	}
	return true
}

// unhandled serves a call the table does not have: the file layer's, or
// ENOSYS.
func (p *Process) unhandled(t *Task, nr uint64, a *[6]uint64) int64 {
	if t.files != nil {
		if r, handled := t.files.Syscall(t, nr, *a); handled {
			return r
		}
	}
	return p.unimplemented(nr)
}

// trace prints one system call and its result (strace's format).
func (t *Task) trace(nr uint64, a *[6]uint64, r int64) {
	name := linux.SyscallName(nr)
	if name == "" {
		name = fmt.Sprintf("syscall_%d", nr)
	}
	res := fmt.Sprint(r)
	if r > 0xffff {
		res = fmt.Sprintf("%#x", r)
	}
	if r < 0 && r > -4096 {
		res = fmt.Sprintf("-1 %s", errnoName(-r))
	} else if r == noReturn {
		res = "(no return)"
	}
	fmt.Fprintf(t.p.cfg.Trace, "[%d] %s(%#x, %#x, %#x, %#x, %#x, %#x) = %s\n", t.tid, name, a[0], a[1], a[2], a[3], a[4], a[5], res)
}

// unsupported refuses a use of a call that Linux serves and Cocoon does
// not (an operation or flag of an implemented call) with error e,
// counting and reporting it like an unimplemented call: what names it,
// for example "clone (fork: flags without CLONE_VM|CLONE_THREAD)".
func (p *Process) unsupported(what string, e int64) int64 {
	c, loaded := p.w.refused.LoadOrStore(what, new(atomic.Int64))
	if c.(*atomic.Int64).Add(1) == 1 && !loaded {
		fmt.Fprintf(p.cfg.Log, "cocoon: application used unsupported %s: %s\n", what, errnoName(-e))
	}
	return e
}

// maxUnknownNumbers bounds the unimplemented system call numbers counted
// one by one. An application may call any of 2^64 numbers (the fuzzer
// calls random ones): a table of every number it tried would grow the
// kernel's heap without limit, and a console line for each would take
// most of the guest's time. Calls of further numbers are counted together
// and reported as otherUnknown.
const maxUnknownNumbers = 256

// otherUnknown names the calls of numbers beyond maxUnknownNumbers in
// Unimplemented.
const otherUnknown = "syscall_others"

func (p *Process) unimplemented(nr uint64) int64 {
	if c, ok := p.w.unknown.Load(nr); ok {
		c.(*atomic.Int64).Add(1)
		return -linux.ENOSYS
	}
	if p.w.unknownNumbers.Add(1) > maxUnknownNumbers {
		if p.w.unknownOther.Add(1) == 1 {
			fmt.Fprintf(p.cfg.Log, "cocoon: application called unimplemented system call %d, more than %d different ones: ENOSYS, further numbers counted together as %s\n", nr, maxUnknownNumbers, otherUnknown)
		}
		return -linux.ENOSYS
	}
	c, loaded := p.w.unknown.LoadOrStore(nr, new(atomic.Int64))
	if c.(*atomic.Int64).Add(1) == 1 && !loaded {
		name := linux.SyscallName(nr)
		if name == "" {
			name = "unknown"
		}
		fmt.Fprintf(p.cfg.Log, "cocoon: application called unimplemented system call %d (%s): ENOSYS\n", nr, name)
	}
	return -linux.ENOSYS
}

var errnoNames = [...]string{
	linux.EPERM: "EPERM", linux.ENOENT: "ENOENT", linux.EINTR: "EINTR", linux.EBADF: "EBADF",
	linux.EAGAIN: "EAGAIN", linux.ENOMEM: "ENOMEM", linux.EFAULT: "EFAULT", linux.EEXIST: "EEXIST",
	linux.EINVAL: "EINVAL", linux.ENOTTY: "ENOTTY", linux.ENOSYS: "ENOSYS", linux.ETIMEDOUT: "ETIMEDOUT",
	linux.ENODEV: "ENODEV", linux.EMFILE: "EMFILE", linux.ENOTDIR: "ENOTDIR", linux.EISDIR: "EISDIR",
	linux.ESPIPE: "ESPIPE", linux.EROFS: "EROFS", linux.EPIPE: "EPIPE", linux.ESRCH: "ESRCH",
	linux.EACCES: "EACCES", linux.ERANGE: "ERANGE",
}

func errnoName(e int64) string {
	if e >= 0 && e < int64(len(errnoNames)) && errnoNames[e] != "" {
		return errnoNames[e]
	}
	return fmt.Sprintf("errno %d", e)
}

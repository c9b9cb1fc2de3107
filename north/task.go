package north

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// Task is one application thread: a goroutine that runs the thread in
// user mode and serves what brings it back.
type Task struct {
	p    *Process
	tid  int32
	regs *kernel.UserRegs
	// files are its descriptor table, working directory and umask
	// (ProcessFiles.Clone), each its own or shared with other tasks;
	// the process's first thread has the process's Files. Changed only
	// by the thread itself (unshare, execve), read by others (/proc).
	files Files
	// slot is the thread's entry in the kernel's table of what each
	// application thread is doing (kernel.AppThreadStart; 0: none),
	// reported if they all block forever.
	slot int

	// Set by the thread's own goroutine only.
	clearTID    uint64        // CLONE_CHILD_CLEARTID / set_tid_address
	robustList  atomic.Uint64 // set_robust_list's head (get_robust_list reads another thread's)
	futexGone   bool          // its PI futexes were handed on at exit (under futexTable.mu)
	exited      bool
	sigMask     uint64
	altStack    stack
	pending     uint64 // thread-directed signals (bit n-1 = signal n)
	pendingInfo [linux.NSig + 1]sigInfo
	pendingMore [linux.NSig + 1][]sigInfo // further real-time instances (sigState.more)
	name        [16]byte
	noNewPrivs  atomic.Bool // prctl(PR_SET_NO_NEW_PRIVS): execve may grant no privileges (TSYNC sets another thread's)
	// seccomp is the thread's newest system call filter (seccomp.go),
	// seccompStrict in strict mode, nil with none. Another thread may
	// set it (SECCOMP_FILTER_FLAG_TSYNC, under p.mu).
	seccomp atomic.Pointer[seccompFilter]
	// sysFrom is the TSC at which the last system call left user mode
	// while its time is still to be charged as system time (chargeRun),
	// or 0.
	sysFrom uint64
	// lastTrap is the thread's last trap that sent a signal: its vector,
	// error code and (for a page fault) address, Linux's thread.trap_nr,
	// error_code and cr2, which every signal frame records, whatever the
	// signal (setup_sigcontext). A child of fork or clone starts with
	// its creator's (dup_task_struct copies them), execve keeps them.
	lastTrap trapInfo
	// retSel are the CS and SS rt_sigreturn restored when they are not
	// the user selectors, until the return to user mode faults on them
	// (returnFault) or a handler's frame records them; zero otherwise.
	retSel [2]uint16
	// The last system call and its result, for SA_RESTART.
	lastNr     uint64
	lastResult int64
	// args holds the current system call's arguments (see handler).
	args [6]uint64
	// savedMask is the signal mask to restore after the next delivery
	// (rt_sigsuspend, pselect6, ppoll, epoll_pwait), when maskSaved.
	savedMask uint64
	maskSaved bool
	// restart continues a timed wait that a signal interrupted, with
	// the time it has left, if no handler runs (Linux's restart_block,
	// run by restart_syscall: ERESTART_RESTARTBLOCK); set with the
	// EINTR the wait returns, cleared when the thread goes back to user
	// mode without restarting.
	restart func(t *Task) int64
	// semUndo is the thread's System V semaphore undo list (sysv_sem.go),
	// guarded by the world's semState.mu.
	semUndo *semUndoList
	// ioCtx is the thread's I/O context (sys_ioprio.go), nil until its
	// I/O priority is set or its creator's is inherited.
	ioCtx atomic.Pointer[ioContext]

	// CPU time in nanoseconds, user and system (sys_timer.go); written by
	// the thread, read by anyone.
	utime, stime atomic.Int64
	io           ioAcct // its reads and writes (procio.go)

	// wake gets a token when a signal arrives, to interrupt a blocking
	// system call (buffered, size 1). woken is set before a token is sent
	// and cleared before deliverSignals drains it, so a token can only be
	// waiting while woken is set.
	wake  chan struct{}
	woken atomic.Bool
	// timer limits the thread's blocking calls (sleep, futex waits).
	timer reusableTimer
	// blocked is sigMask as others may read it, to decide whom a signal
	// wakes; the thread publishes it around system calls.
	blocked atomic.Uint64
	// realBlocked is the mask rt_sigtimedwait unblocked its set from,
	// while it waits (task_struct real_blocked): a signal blocked there
	// is still blocked for the decision to ignore it (sig_ignored).
	realBlocked atomic.Uint64
	// zapped ends the thread: another one called execve.
	zapped atomic.Bool
	// inCall is the system call the thread is in, plus one; 0 when in
	// none (/proc's state).
	inCall atomic.Int64
	// pdeathSig is PR_SET_PDEATHSIG's signal: sent to the process when
	// the thread that made it exits.
	pdeathSig atomic.Int32
	// timerSlack is how much later than asked its timed waits may end,
	// in ns (Linux's timer_slack_ns, prctl PR_SET_TIMERSLACK);
	// defaultSlack is what setting 0 restores: its creator's slack when
	// it was made (default_timer_slack_ns). Both as timerslack.go says.
	timerSlack, defaultSlack atomic.Uint64
	// sched is its nice value and scheduling policy, persona its
	// execution domain (personality(2)); sys_sched.go, sys_system.go.
	sched   schedState
	persona atomic.Uint32
	// rseq is its restartable-sequences registration (rseq.go).
	rseq rseqState
	// rseqFaulted: the thread left user mode by a fault with an rseq
	// area registered; the next entry checks for a preemption (userLast).
	rseqFaulted bool
}

// Tid returns the thread ID.
func (t *Task) Tid() int32 { return t.tid }

// Memory is the task's address space (FileContext).
func (t *Task) Memory() Machine { return t.p.m }

// Interrupted is signalled when a signal should interrupt a blocking call.
func (t *Task) Interrupted() <-chan struct{} { return t.wake }

func (t *Task) interrupt() {
	t.woken.Store(true)
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// loop is the thread's life: run in user mode, handle the trap, repeat.
func (t *Task) loop() {
	for !t.exited && !t.p.exiting() && !t.zapped.Load() {
		if t.rseq.notify {
			t.rseqResume(0) // may kill: a bad rseq area or descriptor
			if t.exited || t.p.exiting() {
				break
			}
		}
		if t.signalWork() {
			t.chargeSystem(kernel.TSC()) // delivery may stop the thread
			t.deliverSignals()
			if t.exited || t.p.exiting() {
				break
			}
		}
		if t.returnFault() {
			continue
		}
		t.lastResult = 0
		if t.rseqFaulted {
			// A page fault preempts only if another thread entered user
			// mode while it was served (Linux's rseq_preempt is at the
			// context switch, not the fault): its critical section
			// restarts, and a bad descriptor is SIGSEGV, only then.
			t.rseqFaulted = false
			if userLast.Load() != t {
				t.rseqPreempted()
				continue
			}
		}
		userLast.Store(t)
		var exit kernel.ExitKind
		if k, ok := t.p.m.(kernelMachine); ok {
			exit = k.s.Run(t.regs) // a direct call on the way to user mode
		} else {
			exit = t.p.m.Run(t.regs)
		}
		t.chargeRun()
		switch {
		case exit == kernel.ExitInterrupt:
			// Another thread may run before this one returns to user
			// mode: a critical section it is in must restart.
			t.rseqPreempted()
		case exit != kernel.ExitSyscall:
			t.rseqFaulted = t.rseq.addr != 0
		}
		switch exit {
		case kernel.ExitSyscall:
			t.syscall()
		case kernel.ExitFault:
			t.fault()
		case kernel.ExitInterrupt:
			// A timer tick: let other goroutines (threads) run.
			t.p.nivcsw.Add(1)
			runtime.Gosched()
		}
	}
	t.futexExit()
	t.exitSem()
	t.p.sig.dropPending(t)
	t.p.parentThreadGone(t.tid)
	if pf, ok := t.files.(ProcessFiles); ok {
		pf.Release() // kernel/exit.c exit_files, exit_fs
	}
	last := t.p.removeTask(t)
	t.regs.Release()
	if last {
		if !t.p.exiting() {
			t.p.exit(0) // every thread ended without exit_group
		}
		t.p.reap()
	}
}

// taskSizeMax is Linux's TASK_SIZE_MAX on x86-64 with 4-level paging,
// the end of user memory less a guard page
// (arch/x86/include/asm/page_64_types.h).
const taskSizeMax = 1<<47 - 4096

// trapInfo is what a signal frame reports of the last trap.
type trapInfo struct{ nr, err, cr2 uint64 }

// trapSignal forces info, a signal a trap sends, and records the trap
// as the thread's last: its vector and error code, and for a page fault
// (info.trapno 14) its address, as Linux's do_trap, gp_user_force_sig_segv,
// send_sigtrap, math_error and set_signal_archinfo do
// (arch/x86/kernel/traps.c, arch/x86/mm/fault.c).
func (t *Task) trapSignal(info sigInfo) {
	t.lastTrap.nr, t.lastTrap.err = info.trapno, info.errcode
	if info.trapno == 14 {
		t.lastTrap.cr2 = info.addr
	}
	t.forceSignal(info)
}

// fault turns a CPU exception into the signal Linux would send
// (arch/x86/kernel/traps.c, arch/x86/mm/fault.c).
func (t *Task) fault() {
	r := t.regs
	if r.Vector == 14 && (t.pageFault() || t.emulateVsyscall() || r.Addr < taskSizeMax && t.growStack(r.Addr)) {
		return
	}
	var info sigInfo
	switch r.Vector {
	case 14: // #PF
		info = sigInfo{signo: linux.SigSegv, code: linux.SegvMaperr, addr: r.Addr}
		if r.ErrCode&1 != 0 {
			info.code = linux.SegvAccerr
		}
		errcode := r.ErrCode
		switch {
		case r.Addr >= taskSizeMax:
			// Linux says "protection" for every fault past TASK_SIZE_MAX,
			// hiding which kernel pages are mapped (set_signal_archinfo,
			// arch/x86/mm/fault.c); the code is SEGV_MAPERR.
			info.code, errcode = linux.SegvMaperr, errcode|1
		case r.Addr >= uint64(layout.UserEnd):
			// Cocoon's kernel lives here, where Linux maps nothing but the
			// application's own mappings: not present, as there.
			info.code, errcode = linux.SegvMaperr, errcode&^1
		}
		info.trapno, info.errcode = r.Vector, errcode
		t.trapSignal(info)
		return
	case 13: // #GP: privileged instruction, non-canonical address
		info = sigInfo{signo: linux.SigSegv, code: linux.SiKernel}
	case 6: // #UD
		info = sigInfo{signo: linux.SigIll, code: linux.IllIllopn, addr: r.Frame.RIP}
	case 0: // #DE
		info = sigInfo{signo: linux.SigFpe, code: linux.FpeIntdiv, addr: r.Frame.RIP}
	case 16, 19: // #MF, #XM: math_error
		code := fpuExceptionCode(r.FPState(), r.Vector)
		if code == 0 {
			// A spurious one: Linux records the trap and lets the
			// thread run on.
			t.lastTrap.nr, t.lastTrap.err = r.Vector, 0
			return
		}
		info = sigInfo{signo: linux.SigFpe, code: code, addr: r.Frame.RIP}
	case 1: // #DB: Linux's exc_debug_user and get_si_code (arch/x86/kernel/traps.c)
		const dr6Step, dr6Traps = 1 << 14, 0xf // DR6.BS, B0-B3
		info = sigInfo{signo: linux.SigTrap, code: linux.TrapBrkpt, addr: r.Frame.RIP}
		switch {
		case r.Addr&dr6Step != 0:
			info.code = linux.TrapTrace
		case r.Addr&dr6Traps != 0:
			info.code = linux.TrapHwbkpt
		}
	case 3: // #BP: int3, do_int3_user sends SIGTRAP as force_sig does
		info = sigInfo{signo: linux.SigTrap, code: linux.SiKernel}
	case 12: // #SS: do_error_trap without a code, so force_sig's
		info = sigInfo{signo: linux.SigBus, code: linux.SiKernel}
	case 17: // #AC: BUS_ADRALN, no address (exc_alignment_check)
		info = sigInfo{signo: linux.SigBus, code: linux.BusAdraln}
	default:
		info = sigInfo{signo: linux.SigSegv, code: linux.SiKernel}
	}
	info.trapno, info.errcode = r.Vector, r.ErrCode
	t.trapSignal(info)
}

// fpuExceptionCode is the si_code of the SIGFPE for a #MF (vector 16) or
// #XM (19), from the unmasked exceptions the state fp (FXSAVE layout)
// has pending, as fpu__exception_code (arch/x86/kernel/fpu/core.c): the
// x87 status word's flags the control word unmasks, or MXCSR's flags its
// own mask bits unmask; invalid operation first, then divide by zero,
// overflow, underflow or denormal, precision. 0 if none is.
func fpuExceptionCode(fp []byte, vector uint64) int32 {
	le := binary.LittleEndian
	var err uint32
	if vector == 16 {
		cwd, swd := le.Uint16(fp[0:]), le.Uint16(fp[2:])
		err = uint32(swd &^ cwd)
	} else {
		mxcsr := le.Uint32(fp[24:])
		err = ^(mxcsr >> 7) & mxcsr
	}
	switch {
	case err&0x01 != 0:
		return linux.FpeFltinv
	case err&0x04 != 0:
		return linux.FpeFltdiv
	case err&0x08 != 0:
		return linux.FpeFltovf
	case err&0x12 != 0:
		return linux.FpeFltund
	case err&0x20 != 0:
		return linux.FpeFltres
	}
	return 0
}

// kill ends the process for a fatal signal and reports it on the log.
func (t *Task) kill(info sigInfo) {
	r := t.regs
	fault := info.trapno != 0 || info.signo == linux.SigSegv
	// The first program's end is reported; another process's only if it
	// crashed (its parent, a shell say, reports the rest).
	if t.p.pid == 1 || fault {
		if t.p.pid == 1 {
			fmt.Fprintf(t.p.cfg.Log, "cocoon: application killed by %s", signalName(info.signo))
		} else {
			fmt.Fprintf(t.p.cfg.Log, "cocoon: process %d (%s) killed by %s", t.p.pid, t.p.exe, signalName(info.signo))
		}
		if fault {
			fmt.Fprintf(t.p.cfg.Log, " (%s, addr %#x, rip %#x, error code %#x, tid %d)",
				vectorName(info), info.addr, r.Frame.RIP, info.errcode, t.tid)
		}
		fmt.Fprintln(t.p.cfg.Log)
	}
	t.p.exitKilled(info.signo)
	t.exited = true
}

// vectorName names the exception behind a fault signal; vector 0 (#DE)
// comes only with SIGFPE, and a SIGSEGV the kernel raised itself (a bad
// signal frame) has no exception.
func vectorName(info sigInfo) string {
	v := info.trapno
	if v == 0 && info.signo != linux.SigFpe {
		return "no exception"
	}
	switch v {
	case 0:
		return "divide error"
	case 6:
		return "invalid opcode"
	case 13:
		return "general protection fault"
	case 14:
		return "page fault"
	}
	return fmt.Sprintf("exception %d", v)
}

// fault0 injects a fault as if the thread had taken it (tests).
func (t *Task) fault0(vector, errCode, addr uint64) {
	t.regs.Vector, t.regs.ErrCode, t.regs.Addr = vector, errCode, addr
	t.fault()
}

var runtimeGosched = runtime.Gosched

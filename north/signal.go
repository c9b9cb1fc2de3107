package north

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sigframe"
)

// signalCalls are the system calls this file serves (registerAll).
var signalCalls = [...]call{
	{linux.SysRtSigaction, sysRtSigaction},
	{linux.SysRtSigprocmask, sysRtSigprocmask},
	{linux.SysSigaltstack, sysSigaltstack},
	{linux.SysRtSigreturn, sysRtSigreturn},
	{linux.SysTgkill, sysTgkill},
	{200, sysTkill}, // tkill
	{62, sysKill},   // kill (sys_proc.go)
	{127, sysRtSigpending},
	{sysRestartSyscall, sysRestart},
	{7, sysPoll},
}

func init() { registerAll(signalCalls[:]) }

// sigAction is struct kernel_sigaction (arch/x86/include/uapi/asm/signal.h
// as the kernel reads it: handler, flags, restorer, mask).
type sigAction struct {
	handler, flags, restorer, mask uint64
}

const (
	sigDfl = 0
	sigIgn = 1
)

// sigInfo is what is known about one pending signal.
type sigInfo struct {
	signo   int
	code    int32
	addr    uint64 // fault address (SIGSEGV, SIGBUS, SIGILL, SIGFPE)
	pid     int32  // sender (kill, tgkill), or the child (SIGCHLD)
	status  int32  // SIGCHLD: the exit code or signal
	trapno  uint64
	errcode uint64
	// A POSIX timer's expiry (SI_TIMER): the timer, whose overrun count
	// is read at delivery, its id and sigval.
	timer   *posixTimer
	timerID int32
	overrun int32
	value   uint64
	// uid is the sender's real user ID (kill, sigqueue).
	uid uint32
	// band and fd are SIGIO's: the poll events and the descriptor.
	band int64
	fd   int32
	// raw is the siginfo rt_sigqueueinfo was given, reported as is.
	raw *[sigframe.SigInfoSize]byte
	// charge is the sender's count of queued signals against
	// RLIMIT_SIGPENDING, given back when the signal is taken (nil: not
	// counted).
	charge *atomic.Int64
}

// uncharge gives back the signal's place under RLIMIT_SIGPENDING.
func (i *sigInfo) uncharge() {
	if i.charge != nil {
		i.charge.Add(-1)
		i.charge = nil
	}
}

// stack is a sigaltstack (stack_t: ss_sp, ss_flags, ss_size).
type stack struct {
	sp    uint64
	flags uint32
	size  uint64
}

// sigState is the process's signal dispositions and process-directed
// pending signals.
type sigState struct {
	// any is the number of pending signals, process- and thread-directed
	// (bits set in pending and in every Task.pending). Changed under mu;
	// read without it on the way back to user mode, where zero means
	// there is nothing to deliver and the lock stays untouched.
	any     atomic.Int64
	mu      sync.Mutex
	act     [linux.NSig + 1]sigAction
	pending uint64
	info    [linux.NSig + 1]sigInfo
	// more are the further instances of pending real-time signals, in
	// the order they came (info has the first).
	more [linux.NSig + 1][]sigInfo
}

// sigRTMin is the first real-time signal (SIGRTMIN in the kernel; the C
// library keeps the first two or three for itself). A real-time signal
// is queued once per send; a standard one is pending at most once.
const sigRTMin = 32

// rlimitSigpending is RLIMIT_SIGPENDING (include/uapi/asm-generic/resource.h).
const rlimitSigpending = 11

// take removes the first pending instance of sig from a set of pending
// signals (the process's or a thread's: its bits, first instances and
// further ones) and returns its information. Called with mu held; sig
// is pending there.
func (s *sigState) take(set *uint64, info *[linux.NSig + 1]sigInfo, more *[linux.NSig + 1][]sigInfo, sig int) sigInfo {
	in := info[sig]
	if q := more[sig]; len(q) > 0 {
		info[sig] = q[0]
		more[sig] = q[1:]
		if len(more[sig]) == 0 {
			more[sig] = nil
		}
	} else {
		s.takePending(set, sig)
		info[sig] = sigInfo{}
	}
	in.uncharge()
	return in
}

func (s *sigState) init() {}

func (s *sigState) action(sig int) sigAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.act[sig]
}

func bit(sig int) uint64 { return 1 << (sig - 1) }

// unblockable signals can be neither blocked nor caught.
const unblockable = 1<<(linux.SigKill-1) | 1<<(linux.SigStop-1)

func validSig(sig uint64) bool { return sig >= 1 && sig <= linux.NSig }

func sysRtSigaction(t *Task, a *[6]uint64) int64 {
	sig, act, oact, size := a[0], a[1], a[2], a[3]
	if size != linux.SigSetSize || !validSig(sig) {
		return -linux.EINVAL
	}
	s := &t.p.sig
	var na sigAction
	if act != 0 {
		if sig == linux.SigKill || sig == linux.SigStop {
			return -linux.EINVAL
		}
		var b [32]byte
		if err := t.p.m.CopyIn(act, b[:]); err != nil {
			return -linux.EFAULT
		}
		na = sigAction{getU64(b[0:]), getU64(b[8:]), getU64(b[16:]), getU64(b[24:]) &^ unblockable}
	}
	s.mu.Lock()
	old := s.act[sig]
	if act != 0 {
		s.act[sig] = na
	}
	s.mu.Unlock()
	if oact != 0 {
		var b [32]byte
		putU64(b[0:], old.handler)
		putU64(b[8:], old.flags)
		putU64(b[16:], old.restorer)
		putU64(b[24:], old.mask)
		if err := t.p.m.CopyOut(oact, b[:]); err != nil {
			return -linux.EFAULT
		}
	}
	return 0
}

func sysRtSigprocmask(t *Task, a *[6]uint64) int64 {
	how, set, oset, size := a[0], a[1], a[2], a[3]
	const sigBlock, sigUnblock, sigSetmask = 0, 1, 2
	if size != linux.SigSetSize {
		return -linux.EINVAL
	}
	var nm uint64
	if set != 0 {
		v, err := mem.ReadUint64(t.p.m, set)
		if err != nil {
			return -linux.EFAULT
		}
		nm = v
		if how > sigSetmask {
			return -linux.EINVAL
		}
	}
	if oset != 0 {
		if err := mem.WriteUint64(t.p.m, oset, t.sigMask); err != nil {
			return -linux.EFAULT
		}
	}
	if set != 0 {
		switch how {
		case sigBlock:
			t.sigMask |= nm
		case sigUnblock:
			t.sigMask &^= nm
		case sigSetmask:
			t.sigMask = nm
		}
		t.sigMask &^= unblockable
	}
	return 0
}

func sysRtSigpending(t *Task, a *[6]uint64) int64 {
	t.p.sig.mu.Lock()
	p := t.pending | t.p.sig.pending
	t.p.sig.mu.Unlock()
	return errno(mem.WriteUint64(t.p.m, a[0], p&t.sigMask))
}

// onAltStack reports whether sp is on the task's alternate stack. Like
// Linux's on_sig_stack (include/linux/sched/signal.h), a stack armed with
// SS_AUTODISARM never counts: it is disarmed whenever a handler runs on it.
func (t *Task) onAltStack(sp uint64) bool {
	s := t.altStack
	if s.flags&linux.SSAutodisarm != 0 {
		return false
	}
	return s.size != 0 && sp > s.sp && sp-s.sp <= s.size
}

// minSigStkSz is MINSIGSTKSZ (arch/x86/include/uapi/asm/signal.h), the
// least size sigaltstack(2) and rt_sigreturn accept for an enabled stack.
const minSigStkSz = 2048

// setAltStack installs ss as the alternate stack with the checks of
// Linux's do_sigaltstack (kernel/signal.c), which both sigaltstack(2) and
// rt_sigreturn's restore_altstack apply, sp being the thread's stack
// pointer at the call; it returns 0 or a negative errno and leaves the
// stack unchanged on error.
func (t *Task) setAltStack(ss stack, sp uint64) int64 {
	if t.onAltStack(sp) {
		return -linux.EPERM
	}
	mode := ss.flags &^ linux.SSAutodisarm
	if mode != linux.SSDisable && mode != linux.SSOnstack && mode != 0 {
		return -linux.EINVAL
	}
	if ss == t.altStack {
		return 0
	}
	if mode == linux.SSDisable {
		ss.sp, ss.size = 0, 0
	} else if ss.size < minSigStkSz {
		return -linux.ENOMEM
	}
	t.altStack = ss
	return 0
}

func sysSigaltstack(t *Task, a *[6]uint64) int64 {
	ss, oss := a[0], a[1]
	if oss != 0 {
		// do_sigaltstack: sas_ss_flags(sp) | (flags & SS_FLAG_BITS).
		var b [24]byte
		old := t.altStack
		var flags uint32
		switch {
		case old.size == 0:
			flags = linux.SSDisable
		case t.onAltStack(t.regs.Frame.RSP):
			flags = linux.SSOnstack
		}
		flags |= old.flags & linux.SSAutodisarm
		putU64(b[0:], old.sp)
		putU64(b[8:], uint64(flags))
		putU64(b[16:], old.size)
		if err := t.p.m.CopyOut(oss, b[:]); err != nil {
			return -linux.EFAULT
		}
	}
	if ss != 0 {
		var b [24]byte
		if err := t.p.m.CopyIn(ss, b[:]); err != nil {
			return -linux.EFAULT
		}
		return t.setAltStack(stack{sp: getU64(b[0:]), flags: uint32(getU64(b[8:])), size: getU64(b[16:])}, t.regs.Frame.RSP)
	}
	return 0
}

// send queues sig for target (a thread) or, with target nil, the process,
// after what sending it does at once (a SIGCONT continues the process);
// a signal the process would ignore is dropped.
func (p *Process) send(target *Task, info sigInfo) {
	p.sigGenerated(info.signo)
	if p.ignoredAtSend(target, info.signo) {
		return
	}
	p.queue(target, info)
}

// queue is send, reporting whether the signal was queued: false when it
// was already pending there (a standard signal is pending once), and its
// info was kept, or when a real-time signal from a process found
// RLIMIT_SIGPENDING reached.
func (p *Process) queue(target *Task, info sigInfo) bool {
	ok, _ := p.queueInfo(target, info)
	return ok
}

// queueInfo is queue, also returning EAGAIN for a real-time signal that
// RLIMIT_SIGPENDING refused (kernel/signal.c __send_signal_locked). A
// signal a process sent counts against the limit of the receiver's real
// user, as each queued signal does on Linux; over it, sigqueue and tkill
// of a real-time signal fail, and other signals still come but without
// their information (SI_USER).
func (p *Process) queueInfo(target *Task, info sigInfo) (bool, int64) {
	var ctr *atomic.Int64
	var limit uint64
	// Signals processes send count (kill's SI_USER, sigqueue's and
	// tkill's negative codes); a standard one from kill is queued over
	// the limit too (override_rlimit).
	override := info.signo < sigRTMin && info.code >= 0
	if info.code <= 0 && info.code != linux.SiTimer {
		p.mu.Lock()
		uid := p.cred.ruid
		p.mu.Unlock()
		c, _ := p.w.sigq.LoadOrStore(uid, new(atomic.Int64))
		ctr, limit = c.(*atomic.Int64), p.rlimit(rlimitSigpending)
	}
	if p.isInit() && p.ignoredAtSend(target, info.signo) {
		return false, 0 // init drops what it has no handler for
	}
	s := &p.sig
	s.mu.Lock()
	set, infos, more := &s.pending, &s.info, &s.more
	if target != nil {
		set, infos, more = &target.pending, &target.pendingInfo, &target.pendingMore
	}
	sig := info.signo
	if *set&bit(sig) != 0 && sig < sigRTMin {
		s.mu.Unlock()
		return false, 0
	}
	if ctr != nil {
		if uint64(ctr.Add(1)) > limit && !override {
			ctr.Add(-1)
			if sig >= sigRTMin && info.code != linux.SiUser {
				s.mu.Unlock()
				return false, -linux.EAGAIN
			}
			// Sent, but its information is lost.
			info = sigInfo{signo: sig, code: linux.SiUser}
		} else {
			info.charge = ctr
		}
	}
	if *set&bit(sig) != 0 {
		more[sig] = append(more[sig], info)
	} else {
		s.setPending(set, sig)
		infos[sig] = info
	}
	s.mu.Unlock()
	notifySignalQueued() // signalfds (sys_signalfd.go)
	if target != nil {
		if target.blocked.Load()&bit(info.signo) == 0 {
			target.interrupt()
		}
		return true, 0
	}
	// A process-directed signal wakes one thread that does not block it,
	// the main thread first (complete_signal in kernel/signal.c); if all
	// block it, it waits until one unblocks it.
	p.mu.Lock()
	var wake *Task
	for _, t := range p.tasks {
		if t.blocked.Load()&bit(info.signo) == 0 && (wake == nil || t.tid < wake.tid) {
			wake = t
		}
	}
	p.mu.Unlock()
	if wake != nil {
		wake.interrupt()
	}
	return true, 0
}

func sysTgkill(t *Task, a *[6]uint64) int64 {
	tgid, tid := int32(a[0]), int32(a[1])
	if tgid <= 0 || tid <= 0 {
		return -linux.EINVAL
	}
	q := t.p.w.lookup(tgid)
	if q == nil || q.procTask(tid) == nil {
		return -linux.ESRCH
	}
	return t.tkill(q, tid, a[2])
}

func sysTkill(t *Task, a *[6]uint64) int64 {
	tid := int32(a[0])
	if tid <= 0 {
		return -linux.EINVAL
	}
	t.p.w.mu.Lock()
	target := t.p.w.taskByID(tid)
	t.p.w.mu.Unlock()
	if target == nil {
		// An exited main thread is still found (procTask).
		if q := t.p.w.lookup(tid); q != nil && q.procTask(tid) != nil {
			return t.tkill(q, tid, a[1])
		}
		return -linux.ESRCH
	}
	return t.tkill(target.p, tid, a[1])
}

func (t *Task) tkill(q *Process, tid int32, sig uint64) int64 {
	return t.tkillCode(q, tid, sig, linux.SiTkill)
}

// tkillCode is tkill with si_code code: SI_TKILL for tkill and tgkill,
// SI_USER for pidfd_send_signal to a thread (prepare_kill_siginfo).
func (t *Task) tkillCode(q *Process, tid int32, sig uint64, code int32) int64 {
	if sig != 0 && !validSig(sig) {
		return -linux.EINVAL
	}
	target := q.procTask(tid)
	if target == nil {
		return -linux.ESRCH
	}
	if !t.mayKill(q) {
		return -linux.EPERM
	}
	if q.taskExited(target) {
		// A main thread that exited is still there until the process
		// is reaped: the signal is sent, but stays pending on it,
		// never delivered, SIGKILL too (complete_signal: wants_signal
		// is false for a PF_EXITING task).
		return 0
	}
	if sig == linux.SigKill {
		q.killBy()
	} else if sig != 0 {
		_, r := q.queueInfo(target, sigInfo{signo: int(sig), code: code, pid: t.p.pid, uid: t.ruid()})
		return r
	}
	return 0
}

// ignoredByDefault are the signals whose default action is to do nothing
// (signal(7): SIGCHLD, SIGURG, SIGWINCH; SIGCONT, which continued the
// process when it was sent).
func ignoredByDefault(sig int) bool {
	switch sig {
	case linux.SigChld, linux.SigUrg, linux.SigWinch, linux.SigCont:
		return true
	}
	return false
}

// forceSignal delivers a synchronous fault signal: if the application
// cannot take it (blocked, ignored or default), the process dies, as with
// Linux's force_sig.
func (t *Task) forceSignal(info sigInfo) {
	act := t.p.sig.action(info.signo)
	if t.sigMask&bit(info.signo) != 0 || act.handler == sigIgn || act.handler == sigDfl {
		t.kill(info)
		return
	}
	s := &t.p.sig
	s.mu.Lock()
	s.setPending(&t.pending, info.signo)
	t.pendingInfo[info.signo] = info
	s.mu.Unlock()
}

// setPending marks sig pending in set (the process's or a thread's) and
// counts it in any unless it already was. Called with mu held.
func (s *sigState) setPending(set *uint64, sig int) {
	if *set&bit(sig) == 0 {
		*set |= bit(sig)
		s.any.Add(1)
	}
}

// takePending clears sig in set, which has it. Called with mu held.
func (s *sigState) takePending(set *uint64, sig int) {
	*set &^= bit(sig)
	s.any.Add(-1)
}

// dropPending forgets the pending signals of t, a thread that is gone.
func (s *sigState) dropPending(t *Task) {
	s.mu.Lock()
	s.any.Add(-int64(bits.OnesCount64(t.pending)))
	t.pending = 0
	unchargeQueued(&t.pendingInfo, &t.pendingMore)
	s.mu.Unlock()
}

// dropShared forgets the process-directed pending signals of a process
// that is gone, when it is reaped, giving back their places under
// RLIMIT_SIGPENDING (kernel/exit.c __exit_signal flushes the shared
// pending queue); its threads gave back theirs as they ended.
func (s *sigState) dropShared() {
	s.mu.Lock()
	s.any.Add(-int64(bits.OnesCount64(s.pending)))
	s.pending = 0
	unchargeQueued(&s.info, &s.more)
	s.mu.Unlock()
}

// unchargeQueued gives back the RLIMIT_SIGPENDING places of a pending
// set's queued signals (its first instances and the further real-time
// ones) and forgets the further ones.
func unchargeQueued(info *[linux.NSig + 1]sigInfo, more *[linux.NSig + 1][]sigInfo) {
	for sig := range info {
		info[sig].uncharge()
		for i := range more[sig] {
			more[sig][i].uncharge()
		}
		more[sig] = nil
	}
}

// signalWork reports, without locking, whether deliverSignals has
// anything to do: a signal pending in the process, or a wake-up token
// left by one another thread took, which must not interrupt this
// thread's next blocking call.
func (t *Task) signalWork() bool {
	return t.p.sig.any.Load() != 0 || t.woken.Load() || t.p.stop.stopped.Load() || t.lastResult == -erestartsys || t.lastResult == -erestartnointr || t.lastResult == -linux.EINTR
}

// deliverSignals takes the pending, unblocked signals before the thread
// returns to user mode: default actions run here, handlers get a frame.
// A mask saved by rt_sigsuspend or pselect6 is restored when no handler
// took it.
func (t *Task) deliverSignals() {
	defer t.restoreMask()
	defer t.restartNoHandler()
	for {
		t.parkStopped()
		t.woken.Store(false)
		select { // the wake-up token has done its job
		case <-t.wake:
		default:
		}
		if t.p.sig.any.Load() == 0 {
			return
		}
		s := &t.p.sig
		s.mu.Lock()
		sig, own := t.nextSignal()
		if sig == 0 {
			s.mu.Unlock()
			return
		}
		var info sigInfo
		if own {
			info = s.take(&t.pending, &t.pendingInfo, &t.pendingMore, sig)
		} else {
			info = s.take(&s.pending, &s.info, &s.more, sig)
		}
		act := s.act[sig]
		if act.flags&linux.SaResethand != 0 && act.handler > sigIgn {
			s.act[sig].handler = sigDfl
		}
		s.mu.Unlock()
		if info.timer != nil {
			ovr, live := info.timer.delivered()
			if !live {
				continue // timer_delete drops the signal of the deleted timer
			}
			info.overrun = ovr
		}
		switch {
		case act.handler == sigIgn:
		case act.handler == sigDfl && t.p.isInit():
			// Queued while blocked, default now: init drops it
			// (get_signal's SIGNAL_UNKILLABLE check).
		case act.handler == sigDfl:
			if isStopSignal(sig) {
				t.p.doStop(sig)
				if t.exited || t.p.exiting() {
					return
				}
				continue
			}
			if !ignoredByDefault(sig) {
				t.kill(info)
				return
			}
		default:
			// A timed wait with a restart block ends with EINTR under a
			// handler, SA_RESTART or not (ERESTART_RESTARTBLOCK).
			restart := t.lastResult == -linux.EINTR && restartable(t.lastNr) && t.restart == nil || t.lastResult == -erestartsys
			t.restart = nil
			if restart && act.flags&linux.SaRestart != 0 || t.lastResult == -erestartnointr {
				// Run the interrupted call again once the handler returns:
				// back over the 2-byte SYSCALL, with its number in RAX.
				t.regs.Frame.RAX = t.lastNr
				t.regs.Frame.RIP -= 2
			} else if t.lastResult == -erestartsys {
				eintr := int64(-linux.EINTR)
				t.regs.Frame.RAX = uint64(eintr)
			}
			t.lastResult = 0
			t.p.nsignals.Add(1)
			t.rseqSignal(sig) // a critical section aborts: the frame returns to its handler
			if t.exited || t.p.exiting() {
				return
			}
			if err := t.setupFrame(info, act); err != nil {
				// No room for the frame: Linux kills with SIGSEGV.
				fmt.Fprintf(t.p.cfg.Log, "cocoon: cannot deliver %s: %v\n", signalName(sig), err)
				t.kill(sigInfo{signo: linux.SigSegv, code: linux.SiKernel})
				return
			}
		}
	}
}

// synchronousSignals are the signals an instruction raises, which Linux
// takes before any other (SYNCHRONOUS_MASK, kernel/signal.c).
const synchronousSignals = 1<<(linux.SigSegv-1) | 1<<(linux.SigBus-1) | 1<<(linux.SigIll-1) |
	1<<(linux.SigTrap-1) | 1<<(linux.SigFpe-1) | 1<<(linux.SigSys-1)

// nextSignal picks the pending signal to deliver, as get_signal does:
// the thread's own synchronous signal a trap raised first
// (dequeue_synchronous_signal), then the thread's pending signals before
// the process's (dequeue_signal), in each the lowest synchronous one if
// any, else the lowest (next_signal). It reports whether the signal is
// the thread's own, or 0 if none is deliverable. Called with mu held.
func (t *Task) nextSignal() (sig int, own bool) {
	s := &t.p.sig
	if sync := t.pending &^ t.sigMask & synchronousSignals; sync != 0 {
		for set := sync; set != 0; set &= set - 1 {
			if n := bits.TrailingZeros64(set) + 1; t.pendingInfo[n].code > 0 {
				return n, true
			}
		}
	}
	for _, c := range []struct {
		set uint64
		own bool
	}{{t.pending, true}, {s.pending, false}} {
		ready := c.set &^ t.sigMask
		if ready == 0 {
			continue
		}
		if ready&synchronousSignals != 0 {
			ready &= synchronousSignals
		}
		return bits.TrailingZeros64(ready) + 1, c.own
	}
	return 0, false
}

// restartNoHandler runs an interrupted call again when no handler ran
// (a handler clears lastResult): the signal that woke it stopped and
// continued the process, or another thread took it, and Linux's
// ERESTARTSYS and ERESTARTNOHAND restart the call then. A timed wait
// with a restart block (nanosleep, clock_nanosleep, poll, a timed futex
// wait) goes on with the time it has left through restart_syscall
// (ERESTART_RESTARTBLOCK); select, pselect6 and ppoll run again with the
// time left they wrote back; epoll_wait, rt_sigtimedwait and the other
// waits that honour no SA_RESTART (restartable) end with EINTR, as on
// Linux (signal(7)).
func (t *Task) restartNoHandler() {
	const pause, sel, rtSigsuspend, pselect6, ppoll = 34, 23, 130, 270, 271
	alive := !t.exited && !t.p.exiting() && !t.zapped.Load()
	if t.restart != nil && t.lastResult == -linux.EINTR && alive {
		t.lastResult = 0
		t.regs.Frame.RAX = sysRestartSyscall
		t.regs.Frame.RIP -= 2
		return
	}
	t.restart = nil
	again := t.lastResult == -erestartsys || t.lastResult == -erestartnointr ||
		t.lastResult == -linux.EINTR && (restartable(t.lastNr) ||
			t.lastNr == pause || t.lastNr == rtSigsuspend || t.lastNr == sel || t.lastNr == pselect6 || t.lastNr == ppoll)
	if again && alive {
		t.lastResult = 0
		t.regs.Frame.RAX = t.lastNr
		t.regs.Frame.RIP -= 2
	}
}

// sysRestartSyscall is restart_syscall's number (arch/x86/entry/syscalls/syscall_64.tbl).
const sysRestartSyscall = 219

// restart_syscall continues the timed wait a stop interrupted
// (kernel/signal.c sys_restart_syscall); with nothing to continue it
// fails with EINTR (do_no_restart_syscall).
func sysRestart(t *Task, _ *[6]uint64) int64 {
	f := t.restart
	t.restart = nil
	if f == nil {
		return -linux.EINTR
	}
	return f(t)
}

// sysPoll is poll(2) from the file layer, with the restart block Linux
// gives it (fs/select.c do_restart_poll): interrupted and restarted, it
// waits until the same end.
func sysPoll(t *Task, a *[6]uint64) int64 {
	const poll = 7
	ufds, nfds, timeout := a[0], a[1], int32(a[2])
	end := time.Now().Add(time.Duration(timeout) * time.Millisecond)
	r := t.p.unhandled(t, poll, a)
	if r == -linux.EINTR {
		t.restart = func(t *Task) int64 {
			b := [6]uint64{ufds, nfds, uint64(uint32(timeout))}
			if timeout >= 0 {
				ms := (time.Until(end) + time.Millisecond - 1) / time.Millisecond
				b[2] = uint64(max(0, ms))
			}
			return sysPoll(t, &b)
		}
	}
	return r
}

var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

func signalName(sig int) string {
	if sig > 0 && sig < len(signalNames) {
		return signalNames[sig]
	}
	return fmt.Sprintf("signal %d", sig)
}

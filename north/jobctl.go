package north

import (
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Job control: the console as the controlling terminal, its foreground
// process group, and stopped processes (credentials_ttys(7),
// Documentation/driver-api/tty, kernel/signal.c do_signal_stop).
//
// The console is the controlling terminal of pid 1's session from boot,
// with pid 1's group in the foreground: as if the guest's first program
// had been started on a terminal (a container run with a tty), so that a
// shell's job control works. (Linux never makes /dev/console a
// controlling terminal; Cocoon's console is the guest's only terminal.)

// ttyState is the console as a controlling terminal.
type ttyState struct {
	mu  sync.Mutex   // serializes changes
	sid atomic.Int32 // the session it controls; 0: none
	fg  atomic.Int32 // its foreground process group
}

func (s *ttyState) sessionOf() int32  { return s.sid.Load() }
func (s *ttyState) foreground() int32 { return s.fg.Load() }

// background reports whether p is in the console's session but not in
// its foreground group.
func (p *Process) background() bool {
	tty := &p.w.tty
	return tty.sid.Load() == p.sid.Load() && !p.noCtty.Load() && tty.fg.Load() != p.pgid.Load()
}

// hasTTY reports whether the console is the process's controlling
// terminal.
func (p *Process) hasTTY() bool {
	return !p.noCtty.Load() && p.w.tty.sessionOf() == p.sid.Load()
}

// Terminal ioctls Cocoon serves for the console
// (include/uapi/asm-generic/ioctls.h).
const (
	tiocnotty = 0x5422
	tiocgsid  = 0x5429
	tostop    = 0o400 // c_lflag TOSTOP (include/uapi/asm-generic/termbits.h)
)

// erestartsys is the kernel's ERESTARTSYS (include/linux/errno.h): the
// call starts again once the signal has been handled if no handler ran,
// or if the handler has SA_RESTART; a handler without it sees EINTR.
const erestartsys = 512

// console is what the file layer tells about a descriptor that may be the
// console: its c_lflag, and whether it is the console at all.
type console interface {
	ConsoleLflag(fd int32) (uint32, bool)
}

// jobCall reports whether jobControl may concern system call nr: ioctl
// (16), the reads and writes (0, 1, 17-20, 295, 296).
func jobCall(nr uint64) bool { return nr <= 20 || nr == 295 || nr == 296 || nr == 327 || nr == 328 }

// jobControl checks a call that touches the console from the process's
// session, before the file layer serves it: the process-group ioctls
// are served here, and a background process reading (or writing, with
// TOSTOP) gets SIGTTIN (SIGTTOU) as drivers/tty/tty_jobctrl.c
// __tty_check_change says. It returns handled false when the call goes
// on to the file layer.
func (t *Task) jobControl(nr uint64, a *[6]uint64) (int64, bool) {
	p := t.p
	var write bool
	switch nr {
	case linux.SysIoctl:
		switch a[1] {
		case linux.TIOCGPGRP, linux.TIOCSPGRP, linux.TIOCSCTTY, tiocnotty, tiocgsid:
		default:
			return 0, false
		}
	case 0, 17, 19, 295, 327: // read, pread64, readv, preadv, preadv2
	case linux.SysWrite, 18, 20, 296, 328: // write, pwrite64, writev, pwritev, pwritev2
		write = true
	default:
		return 0, false
	}
	if nr != linux.SysIoctl && !p.background() {
		return 0, false
	}
	cons, ok := t.files.(console)
	if !ok {
		return 0, false
	}
	lflag, isCons := cons.ConsoleLflag(int32(a[0]))
	if !isCons {
		return 0, false
	}
	if nr != linux.SysIoctl {
		if write && lflag&tostop == 0 {
			return 0, false
		}
		sig := linux.SigTtin
		if write {
			sig = linux.SigTtou
		}
		if r := t.checkForeground(sig, !write); r != 0 {
			return r, true
		}
		return 0, false
	}
	return t.ttyIoctl(a[1], a[2]), true
}

// checkForeground lets a process of the foreground group (or one not in
// the terminal's session) go on (0). A background one gets sig sent to
// its group and the call restarts once it is continued; if it blocks or
// ignores sig, reads fail with EIO and the rest go on; in an orphaned
// group, EIO.
func (t *Task) checkForeground(sig int, read bool) int64 {
	p := t.p
	if !p.background() {
		return 0
	}
	if t.sigMask&bit(sig) != 0 || p.sig.action(sig).handler == sigIgn {
		if read {
			return -linux.EIO
		}
		return 0
	}
	if p.w.orphanedGroup(p.pgid.Load()) {
		return -linux.EIO
	}
	p.w.signalGroup(p.pgid.Load(), sigInfo{signo: sig, code: linux.SiKernel})
	return -erestartsys
}

func (t *Task) ttyIoctl(cmd, arg uint64) int64 {
	p := t.p
	tty := &p.w.tty
	switch cmd {
	case linux.TIOCSCTTY:
		// Only a session leader without a controlling terminal takes
		// one, if no other session has it (tiocsctty).
		tty.mu.Lock()
		defer tty.mu.Unlock()
		sid := p.sid.Load()
		if tty.sid.Load() == sid && !p.noCtty.Load() {
			return 0
		}
		if sid != p.pid || tty.sid.Load() == sid {
			return -linux.EPERM
		}
		if tty.sid.Load() != 0 && arg != 1 {
			return -linux.EPERM // another session has it; only root's arg 1 steals it
		}
		tty.sid.Store(sid)
		tty.fg.Store(p.pgid.Load())
		p.noCtty.Store(false)
		return 0
	case tiocnotty:
		if !p.hasTTY() {
			return -linux.ENOTTY
		}
		if p.sid.Load() == p.pid {
			p.w.disassociate(p.pid)
		} else {
			p.noCtty.Store(true)
		}
		return 0
	}
	if !p.hasTTY() {
		return -linux.ENOTTY
	}
	switch cmd {
	case linux.TIOCGPGRP:
		return errno(mem.WriteUint32(p.m, arg, uint32(tty.foreground())))
	case tiocgsid:
		return errno(mem.WriteUint32(p.m, arg, uint32(tty.sessionOf())))
	}
	// TIOCSPGRP (tiocspgrp): a background caller gets SIGTTOU first.
	if r := t.checkForeground(linux.SigTtou, false); r != 0 {
		return r
	}
	v, err := mem.ReadUint32(p.m, arg)
	if err != nil {
		return -linux.EFAULT
	}
	pgrp := int32(v)
	if pgrp < 0 {
		return -linux.EINVAL
	}
	w := p.w
	w.mu.Lock()
	found, same := false, false
	for _, q := range w.procs {
		if q.pgid.Load() == pgrp && !q.zombie {
			found = true
			same = same || q.sid.Load() == p.sid.Load()
		}
	}
	w.mu.Unlock()
	if !found {
		return -linux.ESRCH
	}
	if !same {
		return -linux.EPERM
	}
	tty.fg.Store(pgrp)
	return 0
}

// disassociate ends session sid's hold on the console, as its leader's
// exit or TIOCNOTTY does: the foreground group gets SIGHUP and SIGCONT
// (drivers/tty/tty_jobctrl.c disassociate_ctty).
func (w *world) disassociate(sid int32) {
	tty := &w.tty
	tty.mu.Lock()
	if tty.sid.Load() != sid {
		tty.mu.Unlock()
		return
	}
	fg := tty.fg.Load()
	tty.sid.Store(0)
	tty.fg.Store(0)
	tty.mu.Unlock()
	w.signalGroup(fg, sigInfo{signo: linux.SigHup, code: linux.SiKernel})
	w.signalGroup(fg, sigInfo{signo: linux.SigCont, code: linux.SiKernel})
}

// signalGroup sends a signal to every live process of group pgrp.
func (w *world) signalGroup(pgrp int32, info sigInfo) {
	w.mu.Lock()
	var to []*Process
	for _, q := range w.procs {
		if q.pgid.Load() == pgrp && !q.zombie {
			to = append(to, q)
		}
	}
	w.mu.Unlock()
	for _, q := range to {
		q.sendSignal(info)
	}
}

// orphanedGroup reports whether no process of group pgrp has a parent in
// another group of the same session (POSIX's orphaned process group;
// kernel/exit.c will_become_orphaned_pgrp).
func (w *world) orphanedGroup(pgrp int32) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.orphanedLocked(pgrp, nil)
}

// orphanedLocked is orphanedGroup, not counting process ignore (which is
// exiting). Called with w.mu held.
func (w *world) orphanedLocked(pgrp int32, ignore *Process) bool {
	for _, q := range w.procs {
		if q == ignore || q.zombie || q.pgid.Load() != pgrp {
			continue
		}
		par := q.parent
		if par == nil || par == ignore || par.zombie {
			continue
		}
		if par.pgid.Load() != pgrp && par.sid.Load() == q.sid.Load() {
			return false
		}
	}
	return true
}

// Stopped processes.

// stopState is a process's job-control stop (guarded by w.mu but the
// flag).
type stopState struct {
	stopped atomic.Bool
	sig     int           // the signal that stopped it
	cont    chan struct{} // closed when it continues or dies
	// report is what waitpid has yet to report: cldStopped,
	// cldContinued, or 0.
	report int32
}

// isStopSignal reports the signals whose default action stops.
func isStopSignal(sig int) bool {
	switch sig {
	case linux.SigStop, linux.SigTstp, linux.SigTtin, linux.SigTtou:
		return true
	}
	return false
}

// stopSignals are the stop signals as a set.
const stopSignals = 1<<(linux.SigStop-1) | 1<<(linux.SigTstp-1) | 1<<(linux.SigTtin-1) | 1<<(linux.SigTtou-1)

// doStop stops the process for sig, the default action of a stop
// signal: every thread parks until SIGCONT or SIGKILL, and the parent
// learns of it (SIGCHLD with CLD_STOPPED unless it set SA_NOCLDSTOP, and
// waitpid with WUNTRACED). SIGTSTP, SIGTTIN and SIGTTOU do nothing to an
// orphaned process group.
func (p *Process) doStop(sig int) {
	w := p.w
	w.mu.Lock()
	if sig != linux.SigStop && w.orphanedLocked(p.pgid.Load(), nil) {
		w.mu.Unlock()
		return
	}
	if p.stop.stopped.Load() || p.exiting() {
		w.mu.Unlock()
		return
	}
	p.stop.sig = sig
	p.stop.report = linux.CldStopped
	p.stop.cont = make(chan struct{})
	p.stop.stopped.Store(true)
	parent := p.parent
	w.notify()
	w.mu.Unlock()
	p.mu.Lock()
	for _, o := range p.tasks {
		o.interrupt()
	}
	p.mu.Unlock()
	p.tellParent(parent, linux.CldStopped, int32(sig))
}

// tellParent sends the parent SIGCHLD for a stop or a continue, unless it
// set SA_NOCLDSTOP.
func (p *Process) tellParent(parent *Process, code, status int32) {
	if parent == nil || parent.exiting() {
		return
	}
	if parent.sig.action(linux.SigChld).flags&linux.SaNocldstop != 0 {
		return
	}
	parent.send(nil, sigInfo{signo: linux.SigChld, code: code, pid: p.pid, status: status})
}

// continueStopped resumes a stopped process: what SIGCONT does when it is
// sent, whatever its disposition (kernel/signal.c prepare_signal).
func (p *Process) continueStopped() {
	w := p.w
	w.mu.Lock()
	if !p.stop.stopped.Load() {
		w.mu.Unlock()
		return
	}
	p.stop.stopped.Store(false)
	p.stop.report = linux.CldContinued
	close(p.stop.cont)
	parent := p.parent
	w.notify()
	w.mu.Unlock()
	p.tellParent(parent, linux.CldContinued, linux.SigCont)
}

// parkStopped holds the thread while its process is stopped.
func (t *Task) parkStopped() {
	p := t.p
	for p.stop.stopped.Load() && !p.exiting() && !t.zapped.Load() {
		p.w.mu.Lock()
		ch := p.stop.cont
		stopped := p.stop.stopped.Load()
		p.w.mu.Unlock()
		if !stopped {
			return
		}
		select {
		case <-ch:
		case <-p.done:
		}
	}
}

// sigGenerated is what sending sig does at once, before it is pending
// (prepare_signal): a stop signal drops a pending SIGCONT, SIGCONT drops
// pending stop signals and resumes a stopped process.
func (p *Process) sigGenerated(sig int) {
	var drop uint64
	switch {
	case isStopSignal(sig):
		drop = bit(linux.SigCont)
	case sig == linux.SigCont:
		drop = stopSignals
	default:
		return
	}
	s := &p.sig
	s.mu.Lock()
	for set := drop; set != 0; set &= set - 1 {
		b := set & -set
		if s.pending&b != 0 {
			s.pending &^= b
			s.any.Add(-1)
		}
		for _, t := range p.tasksLocked() {
			if t.pending&b != 0 {
				t.pending &^= b
				s.any.Add(-1)
			}
		}
	}
	s.mu.Unlock()
	if sig == linux.SigCont {
		p.continueStopped()
	}
}

// tasksLocked returns the process's threads.
func (p *Process) tasksLocked() []*Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Task, 0, len(p.tasks))
	for _, t := range p.tasks {
		out = append(out, t)
	}
	return out
}

// ignoredAtSend reports whether a signal would be ignored by the process
// (or thread target) when it arrives, and so is dropped when sent, as
// Linux's sig_ignored does: its handler is SIG_IGN, or SIG_DFL with a
// default of doing nothing or, for init, any SIG_DFL (init is
// SIGNAL_UNKILLABLE: sig_task_ignored), and the thread (for a
// process-directed signal, every thread) does not block it.
func (p *Process) ignoredAtSend(target *Task, sig int) bool {
	act := p.sig.action(sig)
	if !(act.handler == sigIgn || act.handler == sigDfl && (ignoredByDefault(sig) || p.isInit())) {
		return false
	}
	// A signal blocked, or blocked before rt_sigtimedwait unblocked it
	// to wait for it, is never ignored (kernel/signal.c sig_ignored).
	if target != nil {
		return (target.blocked.Load()|target.realBlocked.Load())&bit(sig) == 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tasks {
		if (t.blocked.Load()|t.realBlocked.Load())&bit(sig) != 0 {
			return false
		}
	}
	return true
}

// isInit reports the guest's first process, pid 1: as Linux's init
// (SIGNAL_UNKILLABLE, kernel/signal.c sig_task_ignored and get_signal),
// it gets no signal it has no handler for from the processes of the
// guest, which all share its PID namespace, not even SIGKILL or SIGSTOP;
// its own faults still kill it (force_sig_info_to_task clears
// SIGNAL_UNKILLABLE: forceSignal), and so does the kernel's SIGKILL
// (out of memory, RLIMIT_CPU).
func (p *Process) isInit() bool { return p == p.w.init }

// killBy ends p for a SIGKILL a process sent (kill, tkill, sigqueue,
// a process group's): init ignores it.
func (p *Process) killBy() {
	if !p.isInit() {
		p.exitKilled(linux.SigKill)
	}
}

// parentThreadGone is what the exit of thread tid of p does to the
// children it made: each gets its PR_SET_PDEATHSIG signal
// (kernel/exit.c forget_original_parent, which sends it when the
// parent thread exits, not the parent process), and from now on another
// thread of p is their parent thread.
func (p *Process) parentThreadGone(tid int32) {
	w := p.w
	w.mu.Lock()
	var kids []*Process
	for _, c := range p.children {
		if c.parentTid == tid && !c.zombie {
			kids = append(kids, c)
		}
	}
	if len(kids) == 0 {
		w.mu.Unlock()
		return
	}
	heir := int32(0)
	p.mu.Lock()
	for id := range p.tasks {
		if id != tid {
			heir = id
			break
		}
	}
	p.mu.Unlock()
	for _, c := range kids {
		c.parentTid = heir
	}
	w.mu.Unlock()
	for _, c := range kids {
		for _, ct := range c.tasksLocked() {
			if sig := ct.pdeathSig.Load(); sig != 0 {
				c.sendSignal(sigInfo{signo: int(sig), code: linux.SiUser, pid: p.pid})
			}
		}
	}
}

// stoppedInGroup reports whether a process of group pgrp is stopped.
// Called with w.mu held.
func (w *world) stoppedInGroup(pgrp int32) bool {
	for _, q := range w.procs {
		if q.pgid.Load() == pgrp && !q.zombie && q.stop.stopped.Load() {
			return true
		}
	}
	return false
}

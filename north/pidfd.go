package north

import (
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Process file descriptors (pidfd_open(2), pidfd_send_signal(2),
// clone's CLONE_PIDFD, waitid's P_PIDFD): a descriptor that names one
// process for as long as it is open, so a signal or a wait through it
// can never reach another process that reused the pid. It polls readable
// once the process has ended (a zombie or reaped: pidfd_poll in
// kernel/pid.c), and also hung up once it is reaped. Go's os package
// uses them for every child it starts when they all work
// (os.checkPidfd).

// pidfdCalls are the system calls this file serves (registerAll).
var pidfdCalls = [...]call{
	{434, sysPidfdOpen},       // pidfd_open
	{424, sysPidfdSendSignal}, // pidfd_send_signal
	{438, sysPidfdGetfd},      // pidfd_getfd
}

func init() { registerAll(pidfdCalls[:]) }

// Pidfd is the process a pidfd refers to.
type Pidfd struct{ p *Process }

// Ended is closed when the process has ended: all its threads are gone.
func (d *Pidfd) Ended() <-chan struct{} { return d.p.ended }

// OnEnd arranges for f to run once the process has ended, at once if it
// has; the function it returns cancels that.
func (d *Pidfd) OnEnd(f func()) (cancel func()) { return d.p.endWatch.add(f) }

// endWatch runs functions when a process ends: a pidfd's pollers learn
// of the end without a goroutine per pidfd waiting for it.
type endWatch struct {
	mu    sync.Mutex
	fns   map[int]func()
	next  int
	ended bool
}

func (e *endWatch) add(f func()) (cancel func()) {
	e.mu.Lock()
	if e.ended {
		e.mu.Unlock()
		f()
		return func() {}
	}
	if e.fns == nil {
		e.fns = map[int]func(){}
	}
	id := e.next
	e.next++
	e.fns[id] = f
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		delete(e.fns, id)
		e.mu.Unlock()
	}
}

// end runs the functions added so far, and any added later at once.
func (e *endWatch) end() {
	e.mu.Lock()
	e.ended = true
	fns := e.fns
	e.fns = nil
	e.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// Reaped reports whether the process has been waited for (or was never
// to be: its parent ignores SIGCHLD), so that its pid is free again.
func (d *Pidfd) Reaped() bool {
	w := d.p.w
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.procs[d.p.pid] != d.p
}

// Pid returns the process's ID, or -1 once it has been reaped (its pid
// has no task: fs/pidfs.c pidfd_show_fdinfo, which /proc/PID/fdinfo
// shows and glibc's pidfd_getpid reads).
func (d *Pidfd) Pid() int32 {
	if d.Reaped() {
		return -1
	}
	return d.p.pid
}

// PidfdFiles is what a Files provides for pidfds; without it they fail
// with ENOSYS.
type PidfdFiles interface {
	// OpenPidfd installs a pidfd for d at the lowest free descriptor,
	// close-on-exec as Linux always makes them, and returns it or a
	// negated errno (EMFILE).
	OpenPidfd(d *Pidfd, nonblock bool) int64
	// Pidfd returns the pidfd open as fd and whether it is nonblocking,
	// or nil if fd is not open or is no pidfd.
	Pidfd(fd int32) (d *Pidfd, nonblock bool)
}

// pidfd_open flags (include/uapi/linux/pidfd.h).
const (
	pidfdNonblock = linux.ONonblock
	pidfdThread   = 0x80 // O_EXCL
)

func sysPidfdOpen(t *Task, a *[6]uint64) int64 {
	pid, flags := int32(a[0]), a[1]
	if flags&^(pidfdNonblock|pidfdThread) != 0 || pid <= 0 {
		return -linux.EINVAL
	}
	pf, ok := t.files.(PidfdFiles)
	if !ok {
		return t.p.unsupported("pidfd_open without pidfd files", -linux.ENOSYS)
	}
	if flags&pidfdThread != 0 {
		return t.p.unsupported("pidfd_open PIDFD_THREAD", -linux.EINVAL)
	}
	w := t.p.w
	w.mu.Lock()
	q := w.procs[pid]
	thread := q == nil && w.taskByID(pid) != nil
	w.mu.Unlock()
	switch {
	case thread:
		// A thread that leads no process (pidfd_prepare: no PIDTYPE_TGID task).
		return -linux.EINVAL
	case q == nil:
		return -linux.ESRCH
	}
	return pf.OpenPidfd(&Pidfd{q}, flags&pidfdNonblock != 0)
}

// pidfd_send_signal flags (include/uapi/linux/pidfd.h): whom the signal
// is for; at most one.
const (
	pidfdSignalThread       = 1
	pidfdSignalThreadGroup  = 2
	pidfdSignalProcessGroup = 4
)

func sysPidfdSendSignal(t *Task, a *[6]uint64) int64 {
	fd, sig, info, flags := int32(a[0]), a[1], a[2], a[3]
	if flags&^(pidfdSignalThread|pidfdSignalThreadGroup|pidfdSignalProcessGroup) != 0 || flags&(flags-1) != 0 {
		return -linux.EINVAL
	}
	var d *Pidfd
	switch fd {
	case pidfdSelfThread:
		// The calling thread, the scope PIDTYPE_PID unless a flag
		// widens it.
		if flags == 0 || flags == pidfdSignalThread {
			if info != 0 {
				return t.p.unsupported("pidfd_send_signal with a siginfo", -linux.EINVAL)
			}
			return t.tkillCode(t.p, t.tid, sig, linux.SiUser)
		}
		d = &Pidfd{t.p}
	case pidfdSelfThreadGroup:
		d = &Pidfd{t.p}
	default:
		pf, ok := t.files.(PidfdFiles)
		if !ok {
			return t.p.unsupported("pidfd_send_signal without pidfd files", -linux.ENOSYS)
		}
		d, _ = pf.Pidfd(fd)
	}
	if d == nil {
		return -linux.EBADF
	}
	if sig != 0 && !validSig(sig) {
		return -linux.EINVAL
	}
	if info != 0 {
		return t.p.unsupported("pidfd_send_signal with a siginfo", -linux.EINVAL)
	}
	if flags == pidfdSignalThread {
		return t.p.unsupported("pidfd_send_signal PIDFD_SIGNAL_THREAD", -linux.EINVAL)
	}
	if d.Reaped() {
		return -linux.ESRCH
	}
	if flags == pidfdSignalProcessGroup {
		var a2 [6]uint64
		a2[0], a2[1] = uint64(uint32(-d.p.pgid.Load())), sig
		return sysKill(t, &a2)
	}
	// The sender's right to signal, as kill(2) checks it (killOne with
	// signal 0 only checks); a zombie takes the signal and ignores it.
	if e := t.killOne(d.p, 0); e != 0 && !(sig == linux.SigCont && d.p.sid.Load() == t.p.sid.Load()) {
		return e
	}
	if sig != 0 && !d.p.hasEnded() {
		d.p.sendSignal(sigInfo{signo: int(sig), code: linux.SiUser, pid: t.p.pid})
	}
	return 0
}

// fdTaker is a descriptor table that can take another's open file.
type fdTaker interface {
	// TakeFD installs the file open as fd in from at the lowest free
	// descriptor, close-on-exec, and returns it, or a negated errno
	// (EBADF: fd not open in from; EMFILE).
	TakeFD(from Files, fd int32) int64
}

// sysPidfdGetfd is pidfd_getfd(2) (kernel/pid.c): a duplicate, in the
// caller's table and close-on-exec, of descriptor fd of the process the
// pidfd names, as SCM_RIGHTS would give it. EINVAL for flags, EBADF for
// no pidfd, ESRCH for a process gone or whose main thread has released
// its files, EPERM unless the caller may trace it
// (PTRACE_MODE_ATTACH_REALCREDS, mayTrace), EBADF for fd not open there.
func sysPidfdGetfd(t *Task, a *[6]uint64) int64 {
	pidfd, fd, flags := int32(a[0]), int32(a[1]), uint32(a[2])
	if flags != 0 {
		return -linux.EINVAL
	}
	pf, ok := t.files.(PidfdFiles)
	taker, ok2 := t.files.(fdTaker)
	if !ok || !ok2 {
		return t.p.unsupported("pidfd_getfd without pidfd files", -linux.ENOSYS)
	}
	d, _ := pf.Pidfd(pidfd)
	if d == nil {
		return -linux.EBADF
	}
	if d.Reaped() {
		return -linux.ESRCH
	}
	if !t.mayTrace(d.p) {
		return -linux.EPERM
	}
	// fget_task of the thread group leader: none once it exited
	// (exit_files; PF_EXITING makes the EBADF an ESRCH).
	from := d.p.TaskFiles(0)
	if from == nil {
		return -linux.ESRCH
	}
	return taker.TakeFD(from, fd)
}

// hasEnded reports whether p has ended (a zombie, or reaped).
func (p *Process) hasEnded() bool {
	select {
	case <-p.ended:
		return true
	default:
		return false
	}
}

// pidfdWaitTarget is waitid's P_PIDFD: the process the pidfd open as fd
// names, and whether the wait may not block (a PIDFD_NONBLOCK pidfd), or
// a negated errno.
func (t *Task) pidfdWaitTarget(fd int32) (*Process, bool, int64) {
	if fd < 0 {
		return nil, false, -linux.EINVAL
	}
	pf, ok := t.files.(PidfdFiles)
	if !ok {
		return nil, false, t.p.unsupported("waitid P_PIDFD without pidfd files", -linux.ENOSYS)
	}
	d, nonblock := pf.Pidfd(fd)
	if d == nil {
		return nil, false, -linux.EBADF
	}
	return d.p, nonblock, 0
}

// checkClonePidfd checks what CLONE_PIDFD needs before a child is made:
// pidfd files, and an int at addr the caller may write (read and written
// back unchanged; EFAULT otherwise, as Linux's put_user gives).
func (t *Task) checkClonePidfd(addr uint64) int64 {
	if _, ok := t.files.(PidfdFiles); !ok {
		return t.p.unsupported("CLONE_PIDFD without pidfd files", -linux.ENOSYS)
	}
	var b [4]byte
	if t.p.m.CopyIn(addr, b[:]) != nil || t.p.m.CopyOut(addr, b[:]) != nil {
		return -linux.EFAULT
	}
	return 0
}

// clonePidfd makes the pidfd CLONE_PIDFD asks for, of child c, in the
// caller's descriptor table, and stores it at addr.
func (t *Task) clonePidfd(c *Process, addr uint64) int64 {
	fd := t.files.(PidfdFiles).OpenPidfd(&Pidfd{c}, false)
	if fd < 0 {
		return fd
	}
	if err := mem.WriteUint32(t.p.m, addr, uint32(fd)); err != nil {
		return -linux.EFAULT
	}
	return 0
}

package north

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sigframe"
)

// Queued signals with information: rt_sigqueueinfo and rt_tgsigqueueinfo
// (sigqueue(3)) send a signal with a caller-made siginfo, and
// rt_sigtimedwait (sigwaitinfo(2), sigtimedwait(2)) takes one without a
// handler. Real-time signals queue (signal.go).

// sigqueueCalls are the system calls this file serves (registerAll).
var sigqueueCalls = [...]call{
	{128, sysRtSigtimedwait},
	{129, sysRtSigqueueinfo},
	{297, sysRtTgsigqueueinfo},
}

func init() { registerAll(sigqueueCalls[:]) }

// Offsets in struct siginfo (include/uapi/asm-generic/siginfo.h).
const (
	siCodeOff  = 8
	siPidOff   = 16
	siUIDOff   = 20
	siValueOff = 24
)

// readSigInfo reads the caller's siginfo for signal sig, kept whole to
// be reported as given, with its code and the _rt member's sender and
// value (what sigqueue fills).
func (t *Task) readSigInfo(addr uint64, sig int) (sigInfo, int64) {
	var b [sigframe.SigInfoSize]byte
	if err := t.p.m.CopyIn(addr, b[:]); err != nil {
		return sigInfo{}, -linux.EFAULT
	}
	le := binary.LittleEndian
	return sigInfo{
		signo: sig,
		code:  int32(le.Uint32(b[siCodeOff:])),
		pid:   int32(le.Uint32(b[siPidOff:])),
		uid:   le.Uint32(b[siUIDOff:]),
		value: le.Uint64(b[siValueOff:]),
		raw:   &b,
	}, 0
}

// mayQueueInfo is do_rt_sigqueueinfo's rule: nobody, root included, may
// pretend to be the kernel (a code >= 0) or tkill to another process.
func (t *Task) mayQueueInfo(info sigInfo, pid int32) bool {
	return !(info.code >= 0 || info.code == linux.SiTkill) || pid == t.p.pid
}

// mayKill is check_kill_permission's credentials rule (kernel/signal.c
// kill_ok_by_cred): the same process, CAP_KILL, or a real or effective
// user ID of the sender that is the target's real or saved one.
func (t *Task) mayKill(q *Process) bool {
	if q == t.p {
		return true
	}
	t.p.mu.Lock()
	c := t.p.cred
	t.p.mu.Unlock()
	q.mu.Lock()
	qc := q.cred
	q.mu.Unlock()
	const capKill = 5
	return c.capable(capKill) || c.euid == qc.suid || c.euid == qc.ruid || c.ruid == qc.suid || c.ruid == qc.ruid
}

// sysRtSigqueueinfo is rt_sigqueueinfo(tgid, sig, info): a process-directed
// signal with the caller's information.
func sysRtSigqueueinfo(t *Task, a *[6]uint64) int64 {
	pid, sig := int32(a[0]), int(int32(a[1]))
	info, r := t.readSigInfo(a[2], sig)
	if r != 0 {
		return r
	}
	if !t.mayQueueInfo(info, pid) {
		return -linux.EPERM
	}
	var q *Process
	if pid > 0 {
		q = t.p.w.lookup(pid)
	}
	if q == nil || q.exiting() {
		return -linux.ESRCH
	}
	return t.sendInfo(q, nil, info)
}

// sysRtTgsigqueueinfo is rt_tgsigqueueinfo(tgid, tid, sig, info): the same
// for one thread.
func sysRtTgsigqueueinfo(t *Task, a *[6]uint64) int64 {
	tgid, tid, sig := int32(a[0]), int32(a[1]), int(int32(a[2]))
	if tgid <= 0 || tid <= 0 {
		return -linux.EINVAL
	}
	info, r := t.readSigInfo(a[3], sig)
	if r != 0 {
		return r
	}
	if !t.mayQueueInfo(info, tgid) {
		return -linux.EPERM
	}
	q := t.p.w.lookup(tgid)
	if q == nil {
		return -linux.ESRCH
	}
	target := q.task(tid)
	if target == nil {
		return -linux.ESRCH
	}
	return t.sendInfo(q, target, info)
}

// sendInfo sends info to process q (thread target, or any with nil)
// after the checks kill does: EINVAL for a bad signal, EPERM without the
// right to signal q; signal 0 only checks.
func (t *Task) sendInfo(q *Process, target *Task, info sigInfo) int64 {
	if info.signo < 0 || info.signo > linux.NSig {
		return -linux.EINVAL
	}
	if !t.mayKill(q) {
		return -linux.EPERM
	}
	switch info.signo {
	case 0:
		return 0
	case linux.SigKill:
		q.killBy()
		return 0
	}
	_, r := q.queueInfo(target, info)
	return r
}

// sysRtSigtimedwait is rt_sigtimedwait(set, info, timeout, sigsetsize):
// it takes the first pending signal of set (the thread's own before the
// process's; real-time ones in the order they came), writes its siginfo
// and returns its number. With none pending it waits: EAGAIN when the
// timeout passes, EINTR when another signal runs a handler.
func sysRtSigtimedwait(t *Task, a *[6]uint64) int64 {
	if a[3] != linux.SigSetSize {
		return -linux.EINVAL
	}
	set, err := mem.ReadUint64(t.p.m, a[0])
	if err != nil {
		return -linux.EFAULT
	}
	set &^= unblockable
	var deadline time.Time
	timed := a[2] != 0
	if timed {
		var b [16]byte
		if err := t.p.m.CopyIn(a[2], b[:]); err != nil {
			return -linux.EFAULT
		}
		sec, nsec := int64(getU64(b[0:])), int64(getU64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return -linux.EINVAL
		}
		if sec > math.MaxInt64/int64(time.Second)-1 {
			// Past what a ktime_t holds: timespec64_to_ktime makes it
			// KTIME_MAX, a wait for ever.
			timed = false
		}
		d := time.Duration(sec)*time.Second + time.Duration(nsec)
		if timed && d > 0 {
			// Up to the thread's slack later (kernel/signal.c
			// do_sigtimedwait); a zero timeout does not wait.
			d = withSlack(d, t.slack())
		}
		deadline = time.Now().Add(d)
	}
	// While it waits, the set is unblocked so that its signals wake the
	// thread (kernel/signal.c do_sigtimedwait).
	t.realBlocked.Store(t.sigMask)
	t.blocked.Store(t.sigMask &^ set)
	defer func() {
		t.blocked.Store(t.sigMask)
		t.realBlocked.Store(0)
	}()
	var tm *time.Timer
	for {
		if info, ok := t.takeFrom(set); ok {
			if info.timer != nil {
				ovr, live := info.timer.delivered()
				if !live {
					continue // timer_delete drops the deleted timer's signal
				}
				info.overrun = ovr
			}
			if a[1] != 0 {
				b := t.siginfo(info).Marshal()
				if err := t.p.m.CopyOut(a[1], b[:]); err != nil {
					return -linux.EFAULT
				}
			}
			return int64(info.signo)
		}
		if t.interrupted() {
			return -linux.EINTR
		}
		if timed {
			d := time.Until(deadline)
			if d <= 0 {
				return -linux.EAGAIN
			}
			if tm == nil {
				tm = time.NewTimer(d)
				defer tm.Stop()
			}
			select {
			case <-t.wake:
			case <-tm.C:
			}
			continue
		}
		<-t.wake
	}
}

// takeFrom takes the lowest pending signal of set, if any.
func (t *Task) takeFrom(set uint64) (sigInfo, bool) {
	s := &t.p.sig
	s.mu.Lock()
	defer s.mu.Unlock()
	ready := (t.pending | s.pending) & set
	if ready == 0 {
		return sigInfo{}, false
	}
	sig := 1
	for ready&bit(sig) == 0 {
		sig++
	}
	if t.pending&bit(sig) != 0 {
		return s.take(&t.pending, &t.pendingInfo, &t.pendingMore, sig), true
	}
	return s.take(&s.pending, &s.info, &s.more, sig), true
}

// siginfo is the struct siginfo a signal is reported with.
func (t *Task) siginfo(info sigInfo) sigframe.SigInfo {
	return sigframe.SigInfo{Signo: int32(info.signo), Code: info.code, Pid: info.pid, Addr: info.addr,
		TimerID: info.timerID, Overrun: info.overrun, Value: info.value, Status: info.status,
		UID: info.uid, Band: info.band, FD: info.fd, Raw: info.raw}
}

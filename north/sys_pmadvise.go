package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// process_madvise(2) and process_mrelease(2) (mm/madvise.c,
// mm/oom_kill.c): advice on another process's memory, and the early
// release of a dying one's.

func init() { registerAll([]call{{440, sysProcessMadvise}, {448, sysProcessMrelease}}) }

// PIDFD_SELF_THREAD and PIDFD_SELF_THREAD_GROUP (include/uapi/linux/
// pidfd.h, Linux 6.18): the calling thread and its process, without a
// pidfd, for pidfd_send_signal, process_madvise and process_mrelease.
const (
	pidfdSelfThread      = -10000
	pidfdSelfThreadGroup = -10001
)

// pidfdProcess is pidfd_get_task: the process the pidfd open as fd (or
// PIDFD_SELF_*) names; EBADF for none, ESRCH once it is reaped.
func (t *Task) pidfdProcess(fd int32) (*Process, int64) {
	if fd == pidfdSelfThread || fd == pidfdSelfThreadGroup {
		return t.p, 0
	}
	pf, ok := t.files.(PidfdFiles)
	if !ok {
		return nil, t.p.unsupported("pidfds without pidfd files", -linux.ENOSYS)
	}
	d, _ := pf.Pidfd(fd)
	if d == nil {
		return nil, -linux.EBADF
	}
	if d.Reaped() {
		return nil, -linux.ESRCH
	}
	return d.p, 0
}

// sysProcessMadvise applies advice to each range of an iovec array in
// the process a pidfd names, as madvise(2) would there: the caller's own
// memory takes any advice; another process's only the hints
// MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED and MADV_COLLAPSE (EINVAL), and
// only from a caller that may read its memory (EACCES, mm_access) and
// holds CAP_SYS_NICE (EPERM). The result is the bytes advised, or the
// error of the first range if none was.
func sysProcessMadvise(t *Task, a *[6]uint64) int64 {
	pidfd, vec, vlen, advice, flags := int32(a[0]), a[1], a[2], int32(a[3]), uint32(a[4])
	if flags != 0 {
		return -linux.EINVAL
	}
	iov, e := t.readIovecs(vec, vlen)
	if e != 0 {
		return e
	}
	p, e := t.pidfdProcess(pidfd)
	if e != 0 {
		return e
	}
	if p != t.p {
		if p.LiveFiles() == nil || p.exiting() {
			return -linux.ESRCH // no address space left
		}
		if !t.mayRead(p) {
			return -linux.EACCES
		}
		switch advice {
		case madvCold, madvPageout, madvWillneed, madvCollapse:
		default:
			return -linux.EINVAL
		}
		if !t.Capable(capSysNice) {
			return -linux.EPERM
		}
	}
	var done int64
	for _, v := range iov {
		var r int64
		if p == t.p {
			args := [6]uint64{v.base, v.len, uint64(advice)}
			r = sysMadvise(t, &args)
		} else {
			r = p.remoteHint(v.base, v.len, advice)
		}
		if r < 0 {
			if done > 0 {
				return done
			}
			return r
		}
		done += int64(v.len)
	}
	return done
}

// madvCollapse is MADV_COLLAPSE: no huge pages here, EINVAL as madvise
// gives it.
const madvCollapse = 25

// remoteHint is madvise of a hint in another process: the range
// checked as madvise checks it (EINVAL unaligned or wrapping, ENOMEM not
// all mapped), nothing else to do with the hint; MADV_COLLAPSE is EINVAL
// as madvise has it here.
func (p *Process) remoteHint(addr, length uint64, advice int32) int64 {
	if addr%mem.PageSize != 0 || addr+length < addr {
		return -linux.EINVAL
	}
	if advice == madvCollapse {
		return -linux.EINVAL
	}
	length = pageUp(length)
	if length == 0 {
		return 0
	}
	if !p.covered(addr, length) {
		return -linux.ENOMEM
	}
	return 0
}

// mayRead is PTRACE_MODE_READ_FSCREDS as mm_access asks it; with no
// Yama-style restriction on reading, it is mayTrace's rule.
func (t *Task) mayRead(p *Process) bool { return t.mayTrace(p) }

// sysProcessMrelease is process_mrelease(2): the memory of a process
// already being killed freed now rather than when its last thread goes.
// Here a dying process's memory goes as its threads end, with nothing
// left to hurry: 0 while it is dying, EINVAL while it lives (its memory
// is not being freed), ESRCH once its memory is gone.
func sysProcessMrelease(t *Task, a *[6]uint64) int64 {
	pidfd, flags := int32(a[0]), uint32(a[1])
	if flags != 0 {
		return -linux.EINVAL
	}
	p, e := t.pidfdProcess(pidfd)
	if e != 0 {
		return e
	}
	if p.LiveFiles() == nil || p.hasEnded() {
		return -linux.ESRCH // find_lock_task_mm: no thread with memory
	}
	if !p.exiting() {
		return -linux.EINVAL // task_will_free_mem: not dying
	}
	return 0
}

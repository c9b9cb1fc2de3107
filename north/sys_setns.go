package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// setns(2) (kernel/nsproxy.c): every process here is in the one set of
// namespaces (unshare and clone of new ones are refused), so joining
// another process's namespaces through its pidfd leaves the caller in
// the ones it is in, after the checks each namespace's install makes;
// there are no /proc/PID/ns files, so any other descriptor is EINVAL.
// Joining a mount namespace moves the working directory to its root
// (mntns_install), an IPC namespace gives the semaphore undo list back
// (commit_nsset: exit_sem).

func init() { registerAll([]call{{308, sysSetns}}) }

// setnsKnown are the namespace flags setns takes with a pidfd
// (check_setns_flags).
const setnsKnown = cloneNewns | cloneNewuts | cloneNewipc | cloneNewnet | cloneNewuser |
	cloneNewpid | cloneNewcgroup | cloneNewtime

// capSysChroot is CAP_SYS_CHROOT (include/uapi/linux/capability.h).
const capSysChroot = 18

// rootChdir is a table that can move its working directory to the root.
type rootChdir interface{ ChdirRoot() error }

func sysSetns(t *Task, a *[6]uint64) int64 {
	fd, flags := int32(a[0]), uint64(uint32(a[1]))
	ids, ok := t.files.(kcmpFileIDs)
	pf, ok2 := t.files.(PidfdFiles)
	if !ok || !ok2 {
		return t.p.unsupported("setns without pidfd files", -linux.ENOSYS)
	}
	if _, open := ids.FileID(fd); !open {
		return -linux.EBADF
	}
	d, _ := pf.Pidfd(fd)
	if d == nil || flags == 0 || flags&^setnsKnown != 0 {
		return -linux.EINVAL // not a namespace file, nor a pidfd with known flags
	}
	// validate_nsset: the process, the right to read it, its nsproxy
	// (gone once it exited).
	if d.Reaped() {
		return -linux.ESRCH
	}
	if !t.mayTrace(d.p) {
		return -linux.EPERM
	}
	if d.p.LiveFiles() == nil || d.p.hasEnded() {
		return -linux.ESRCH
	}
	p := t.p
	threads := p.threadCount()
	admin := t.Capable(capSysAdmin)
	// Each namespace's install, in validate_nsset's order.
	if flags&cloneNewuser != 0 {
		return -linux.EINVAL // userns_install: already in it
	}
	if flags&cloneNewns != 0 {
		if !admin || !t.Capable(capSysChroot) {
			return -linux.EPERM
		}
		if threads > 1 {
			return -linux.EINVAL // mntns_install: fs_struct shared with other threads
		}
	}
	if flags&(cloneNewuts|cloneNewipc|cloneNewpid|cloneNewcgroup|cloneNewnet) != 0 && !admin {
		return -linux.EPERM
	}
	if flags&cloneNewtime != 0 {
		if threads > 1 {
			return -linux.EUSERS // timens_install: not single-threaded
		}
		if !admin {
			return -linux.EPERM
		}
	}
	// commit_nsset.
	if flags&cloneNewns != 0 {
		if c, ok := t.files.(rootChdir); ok {
			if err := c.ChdirRoot(); err != nil {
				return errno(err)
			}
		}
	}
	if flags&cloneNewipc != 0 {
		t.exitSem()
	}
	return 0
}

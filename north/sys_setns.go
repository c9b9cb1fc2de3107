package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// setns(2) (kernel/nsproxy.c): every process here is in the one set of
// namespaces (unshare and clone of new ones are refused), so joining
// another process's namespaces through its pidfd, or a namespace through
// a file of /proc/PID/ns, leaves the caller in the ones it is in, after
// the checks each namespace's install makes; any other descriptor is
// EINVAL. Joining a mount namespace moves the working directory to its
// root (mntns_install), an IPC namespace gives the semaphore undo list
// back (commit_nsset: exit_sem).

func init() { registerAll([]call{{308, sysSetns}}) }

// setnsKnown are the namespace flags setns takes with a pidfd
// (check_setns_flags).
const setnsKnown = cloneNewns | cloneNewuts | cloneNewipc | cloneNewnet | cloneNewuser |
	cloneNewpid | cloneNewcgroup | cloneNewtime

// capSysChroot is CAP_SYS_CHROOT (include/uapi/linux/capability.h).
const capSysChroot = 18

// rootChdir is a table that can move its working directory to the root.
type rootChdir interface{ ChdirRoot() error }

// NamespaceFiles is what a Files may also tell for setns: the CLONE_NEW*
// flag of the namespace whose file (/proc/PID/ns/NAME) is open as fd, 0
// for another file, and whether fd is an O_PATH descriptor.
type NamespaceFiles interface {
	Namespace(fd int32) (flag uint64, path bool)
}

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
	if d == nil {
		return t.setnsFile(fd, flags)
	}
	if flags == 0 || flags&^setnsKnown != 0 {
		return -linux.EINVAL // a pidfd without known flags
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
	return t.setnsInstall(flags)
}

// setnsFile is setns with a namespace file: flags 0 or its kind
// (EINVAL otherwise, as for a file of no namespace); an O_PATH
// descriptor is no file to it (fget: EBADF).
func (t *Task) setnsFile(fd int32, flags uint64) int64 {
	nf, ok := t.files.(NamespaceFiles)
	if !ok {
		return -linux.EINVAL
	}
	kind, path := nf.Namespace(fd)
	switch {
	case path:
		return -linux.EBADF
	case kind == 0 || flags != 0 && flags != kind:
		return -linux.EINVAL
	}
	return t.setnsInstall(kind)
}

// setnsInstall joins the namespaces flags names, the caller's own, after
// the checks each one's install makes, in validate_nsset's order.
func (t *Task) setnsInstall(flags uint64) int64 {
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

package north

import "github.com/cocoon-vm/cocoon/kernel/linux"

// unshare(2), as Linux's ksys_unshare (kernel/fork.c) serves it for what
// Cocoon has. CLONE_FILES and CLONE_FS give the calling task a private
// copy of its descriptor table, and of its working directory and umask,
// where other tasks (threads, or processes made with CLONE_FILES or
// CLONE_FS) share them (unshare_fd, unshare_fs); the others keep the
// original. Cocoon has no namespaces: those flags fail as in a Linux
// built without them (copy_utsname, copy_ipcs, copy_pid_ns, copy_net_ns,
// copy_cgroup_ns, copy_time_ns and unshare_userns give EINVAL), after
// Linux's CAP_SYS_ADMIN check (unshare_nsproxy_namespaces: EPERM).

var unshareCalls = [...]call{
	{272, sysUnshare}, // unshare
}

func init() { registerAll(unshareCalls[:]) }

// Namespace flags (include/uapi/linux/sched.h).
const (
	cloneNewcgroup = 0x02000000
	cloneNewuts    = 0x04000000
	cloneNewipc    = 0x08000000
	cloneNewuser   = 0x10000000
	cloneNewpid    = 0x20000000
	cloneNewnet    = 0x40000000

	// unshareKnown are the flags unshare accepts (check_unshare_flags).
	unshareKnown = linux.CloneThread | cloneFS | cloneNewns | linux.CloneSighand |
		linux.CloneVM | cloneFiles | cloneSysvsem | cloneNewuts | cloneNewipc |
		cloneNewnet | cloneNewuser | cloneNewpid | cloneNewcgroup | cloneNewtime
	// unshareNsproxy are the flags unshare_nsproxy_namespaces serves.
	unshareNsproxy = cloneNewns | cloneNewuts | cloneNewipc | cloneNewnet |
		cloneNewpid | cloneNewcgroup | cloneNewtime
)

func sysUnshare(t *Task, a *[6]uint64) int64 {
	flags := a[0]
	if flags&^unshareKnown != 0 {
		return -linux.EINVAL
	}
	// The flags each flag implies (ksys_unshare).
	if flags&cloneNewuser != 0 {
		flags |= linux.CloneThread | cloneFS
	}
	if flags&linux.CloneVM != 0 {
		flags |= linux.CloneSighand
	}
	if flags&linux.CloneSighand != 0 {
		flags |= linux.CloneThread
	}
	if flags&cloneNewns != 0 {
		flags |= cloneFS
	}
	p := t.p
	threads := p.threadCount()
	// check_unshare_flags: the thread group, handlers and address space
	// can only be "unshared" when nothing shares them. No two processes
	// share handlers here (newProcess refuses CLONE_SIGHAND); a vfork
	// or CLONE_VM child shares its parent's address space
	// (current_is_single_threaded).
	if flags&(linux.CloneThread|linux.CloneSighand|linux.CloneVM) != 0 && threads > 1 {
		return -linux.EINVAL
	}
	if flags&linux.CloneVM != 0 {
		p.mm.mu.Lock()
		shared := p.mm.users > 1
		p.mm.mu.Unlock()
		if shared {
			return -linux.EINVAL
		}
	}
	if flags&cloneNewuser != 0 {
		return p.unsupported("unshare of a user namespace", -linux.EINVAL)
	}
	if flags&unshareNsproxy != 0 {
		if !t.Capable(capSysAdmin) {
			return -linux.EPERM
		}
		return p.unsupported("unshare of new namespaces", -linux.EINVAL)
	}
	// unshare_fs and unshare_fd: a copy only where others share them;
	// applied once nothing can fail.
	if flags&(cloneFS|cloneFiles) != 0 {
		pf, ok := t.files.(ProcessFiles)
		switch {
		case ok:
			if c, ok := t.files.(tableCopier); ok && flags&cloneFiles != 0 && c.TableShared() && !t.tableCopyFits() {
				return -linux.ENOMEM
			}
			pf.Unshare(flags&cloneFiles != 0, flags&cloneFS != 0)
		case threads > 1:
			return p.unsupported("unshare of files or fs without process files", -linux.EINVAL)
		}
	}
	// CLONE_SYSVSEM (which CLONE_NEWIPC implies, refused above) leaves
	// the semaphore undo list: the last thread to leave it has its
	// adjustments applied (exit_sem).
	if flags&cloneSysvsem != 0 {
		t.exitSem()
	}
	return 0
}

package north

import (
	"runtime"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

func init() {
	register(linux.SysClone, sysClone)
	register(linux.SysExit, sysExit)
	register(linux.SysExitGroup, sysExitGroup)
	register(218, sysSetTidAddress) // set_tid_address
	register(273, sysSetRobustList) // set_robust_list
	register(274, sysGetRobustList) // get_robust_list
	register(linux.SysGettid, func(t *Task, a *[6]uint64) int64 { return int64(t.tid) })
	register(linux.SysGetpid, func(t *Task, a *[6]uint64) int64 { return 1 })
	register(110, func(t *Task, a *[6]uint64) int64 { return 0 }) // getppid
	register(linux.SysSchedYield, func(t *Task, a *[6]uint64) int64 { runtime.Gosched(); return 0 })
	register(linux.SysSchedGetaffinit, sysSchedGetaffinity)
	register(203, func(t *Task, a *[6]uint64) int64 { return 0 }) // sched_setaffinity
	register(linux.SysArchPrctl, sysArchPrctl)
	register(linux.SysPrctl, sysPrctl)
	register(334, func(t *Task, a *[6]uint64) int64 { return -linux.ENOSYS }) // rseq: not offered
}

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneFS            = 0x200
	cloneFiles         = 0x400
	cloneSysvsem       = 0x40000
	cloneParentSettid  = 0x100000
	cloneChildCleartid = 0x200000
	cloneChildSettid   = 0x1000000
)

// sysClone creates a thread; processes (fork) are not supported.
func sysClone(t *Task, a *[6]uint64) int64 {
	flags, stack, ptid, ctid, tls := a[0], a[1], a[2], a[3], a[4]
	const thread = linux.CloneVM | linux.CloneThread | linux.CloneSighand
	if flags&thread != thread {
		return -linux.ENOSYS // fork and vfork: one process only
	}
	p := t.p
	if p.threadCount() >= p.maxThreads() {
		return -linux.EAGAIN
	}
	r := kernel.NewUserRegs()
	r.CopyFrom(t.regs)
	r.Frame.RAX = 0
	if stack != 0 {
		r.Frame.RSP = stack
	}
	if flags&linux.CloneSettls != 0 {
		if tls >= 1<<47 {
			return -linux.EPERM
		}
		r.FSBase = tls
	}
	c := p.newTask(r)
	c.sigMask = t.sigMask
	if flags&cloneParentSettid != 0 {
		if err := mem.WriteUint32(p.m, ptid, uint32(c.tid)); err != nil {
			p.removeTask(c)
			return -linux.EFAULT
		}
	}
	if flags&cloneChildSettid != 0 {
		mem.WriteUint32(p.m, ctid, uint32(c.tid))
	}
	if flags&cloneChildCleartid != 0 {
		c.clearTID = ctid
	}
	go c.loop()
	return int64(c.tid)
}

// sysExit ends the calling thread; the last one ends the process.
func sysExit(t *Task, a *[6]uint64) int64 {
	if t.clearTID != 0 {
		if mem.WriteUint32(t.p.m, t.clearTID, 0) == nil {
			t.p.futex.wake(t.p.m, t.clearTID, 1, ^uint32(0))
		}
	}
	t.exited = true
	t.p.mu.Lock()
	last := len(t.p.tasks) == 1
	t.p.mu.Unlock()
	if last {
		t.p.exit(int(a[0] & 0xff))
	}
	return noReturn
}

func sysExitGroup(t *Task, a *[6]uint64) int64 {
	t.p.exit(int(a[0] & 0xff))
	t.exited = true
	return noReturn
}

func sysSetTidAddress(t *Task, a *[6]uint64) int64 {
	t.clearTID = a[0]
	return int64(t.tid)
}

// Robust futex lists are recorded but not walked at thread exit.
func sysSetRobustList(t *Task, a *[6]uint64) int64 {
	if a[1] != 24 { // sizeof(struct robust_list_head)
		return -linux.EINVAL
	}
	t.robustList, t.robustLen = a[0], a[1]
	return 0
}

func sysGetRobustList(t *Task, a *[6]uint64) int64 {
	if a[0] != 0 && int32(a[0]) != t.tid {
		return -linux.ESRCH
	}
	if err := mem.WriteUint64(t.p.m, a[1], t.robustList); err != nil {
		return -linux.EFAULT
	}
	return errno(mem.WriteUint64(t.p.m, a[2], t.robustLen))
}

// sysSchedGetaffinity reports one CPU; the result is the mask size.
func sysSchedGetaffinity(t *Task, a *[6]uint64) int64 {
	size := a[1]
	if size < 8 || size%8 != 0 {
		return -linux.EINVAL
	}
	if err := mem.WriteUint64(t.p.m, a[2], 1); err != nil {
		return -linux.EFAULT
	}
	return 8
}

func sysArchPrctl(t *Task, a *[6]uint64) int64 {
	switch a[0] {
	case linux.ArchSetFS:
		if a[1] >= 1<<47 {
			return -linux.EPERM
		}
		t.regs.FSBase = a[1]
		return 0
	case linux.ArchGetFS:
		return errno(mem.WriteUint64(t.p.m, a[1], t.regs.FSBase))
	}
	return -linux.EINVAL
}

// prctl: thread names and the keep-capabilities flag.
func sysPrctl(t *Task, a *[6]uint64) int64 {
	const prSetName, prGetName = 15, 16 // include/uapi/linux/prctl.h
	const prGetKeepcaps, prSetKeepcaps = 7, 8
	switch a[0] {
	case prSetName:
		var b [16]byte
		for i := range b[:15] {
			if err := t.p.m.CopyIn(a[1]+uint64(i), b[i:i+1]); err != nil {
				return -linux.EFAULT
			}
			if b[i] == 0 {
				break
			}
		}
		b[15] = 0
		t.name = b
		return 0
	case prGetName:
		return errno(t.p.m.CopyOut(a[1], t.name[:]))
	case prGetKeepcaps:
		if t.p.keepCaps.Load() {
			return 1
		}
		return 0
	case prSetKeepcaps:
		if a[1] > 1 {
			return -linux.EINVAL
		}
		t.p.keepCaps.Store(a[1] == 1)
		return 0
	}
	return -linux.EINVAL
}

// maxThreads bounds the threads: each costs the kernel memory of its own
// (its goroutine and saved registers) that the application's demand must
// not exhaust. Linux's default threads-max is a RAM-proportional bound
// too (kernel/fork.c set_max_threads: RAM / (8 * THREAD_SIZE)); this is
// RAM / 256 KiB, at least 64.
func (p *Process) maxThreads() int {
	return max(int(p.cfg.RAM>>18), 64)
}

func (p *Process) threadCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tasks)
}

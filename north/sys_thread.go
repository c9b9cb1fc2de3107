package north

import (
	"fmt"
	"runtime"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// threadCalls are the system calls this file serves (registerAll).
var threadCalls = [...]call{
	{linux.SysClone, sysClone},
	{linux.SysExit, sysExit},
	{linux.SysExitGroup, sysExitGroup},
	{218, sysSetTidAddress}, // set_tid_address
	{273, sysSetRobustList}, // set_robust_list
	{274, sysGetRobustList}, // get_robust_list
	{linux.SysGettid, func(t *Task, a *[6]uint64) int64 { return int64(t.tid) }},
	{linux.SysGetpid, func(t *Task, a *[6]uint64) int64 { return int64(t.p.pid) }},
	{110, sysGetppid}, // getppid
	{linux.SysSchedYield, func(t *Task, a *[6]uint64) int64 { runtime.Gosched(); return 0 }},
	{linux.SysSchedGetaffinit, sysSchedGetaffinity},
	{203, sysSchedSetaffinity},
	{linux.SysArchPrctl, sysArchPrctl},
	{linux.SysPrctl, sysPrctl},
}

func init() { registerAll(threadCalls[:]) }

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneFS            = 0x200
	cloneFiles         = 0x400
	cloneSysvsem       = 0x40000
	cloneParentSettid  = 0x100000
	cloneChildCleartid = 0x200000
	cloneChildSettid   = 0x1000000
)

// sysClone creates a thread, or without CLONE_THREAD a process
// (sys_proc.go).
func sysClone(t *Task, a *[6]uint64) int64 {
	// Legacy clone takes the flags' low 32 bits (kernel/fork.c
	// SYSCALL_DEFINE5(clone): lower_32_bits(clone_flags)); the flags
	// above, CLONE_CLEAR_SIGHAND and CLONE_INTO_CGROUP, are clone3's.
	return t.clone(a[0]&0xffffffff, a[1], a[2], a[3], a[4])
}

// clone is clone's and clone3's work: a thread with CLONE_THREAD, else a
// process (newProcess).
func (t *Task) clone(flags, stack, ptid, ctid, tls uint64) int64 {
	if flags&linux.CloneThread == 0 {
		if flags&clonePidfd != 0 && flags&cloneParentSettid != 0 {
			return -linux.EINVAL // clone(2) has one field for both
		}
		return t.newProcess(flags, stack, ptid, ctid, tls, ptid, 0)
	}
	// A thread shares the address space and handlers (clone(2) EINVAL).
	if flags&(linux.CloneVM|linux.CloneSighand) != linux.CloneVM|linux.CloneSighand {
		return -linux.EINVAL
	}
	// kernel/fork.c copy_process: a thread cannot be in a new user or
	// PID namespace, a new mount or user namespace cannot share the
	// working directory, init makes no sibling.
	if flags&(cloneNewuser|cloneNewpid) != 0 || flags&cloneFS != 0 && flags&(cloneNewns|cloneNewuser) != 0 ||
		flags&cloneParent != 0 && t.p.isInit() {
		return -linux.EINVAL
	}
	if flags&(cloneNewFlags|cloneNewns|cloneNewtime|cloneIntoCgroup) != 0 {
		return t.p.unsupported("clone of a thread with new namespaces", -linux.EPERM)
	}
	if flags&clonePidfd != 0 {
		return t.p.unsupported("CLONE_PIDFD with CLONE_THREAD (pidfds of threads)", -linux.EINVAL)
	}
	if mem.KernelShort() {
		return -linux.ENOMEM // copy_process: dup_task_struct failed
	}
	p := t.p
	if p.threadCount() >= p.maxThreads() || p.overNproc() {
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
	// Its descriptor table and working directory: the caller's with
	// CLONE_FILES and CLONE_FS, else copies (kernel/fork.c copy_files,
	// copy_fs).
	files := t.files
	pf, own := files.(ProcessFiles)
	if own && flags&cloneFiles == 0 && !t.tableCopyFits() {
		return -linux.ENOMEM
	}
	if own {
		files = pf.Clone(flags&cloneFiles != 0, flags&cloneFS != 0, true)
	}
	c := p.newTaskFiles(r, files)
	if s, ok := files.(interface{ SetTid(int32) }); ok && own {
		s.SetTid(c.tid)
	}
	c.setName(t.getName()) // a thread starts with its creator's name
	c.sigMask = t.sigMask
	c.lastTrap = t.lastTrap
	c.noNewPrivs.Store(t.noNewPrivs.Load())
	c.seccomp.Store(t.seccomp.Load()) // copy_seccomp
	c.inheritSlack(t)
	c.inheritSched(t)
	t.inheritIO(c, flags)
	if flags&cloneSysvsem != 0 {
		t.shareSemUndo(c)
	}
	if flags&cloneParentSettid != 0 {
		if err := mem.WriteUint32(p.m, ptid, uint32(c.tid)); err != nil {
			p.removeTask(c)
			if own {
				files.(ProcessFiles).Release()
			}
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
	t.futexExit() // before the clear_child_tid wake (kernel/fork.c mm_release)
	if t.clearTID != 0 {
		if mem.WriteUint32(t.p.m, t.clearTID, 0) == nil {
			t.p.futex.wake(t.futexKey(t.clearTID, false), 1, ^uint32(0))
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

// sysGetppid returns the parent's pid; init's parent is 0.
func sysGetppid(t *Task, a *[6]uint64) int64 {
	t.p.w.mu.Lock()
	defer t.p.w.mu.Unlock()
	if t.p.parent == nil {
		return 0
	}
	return int64(t.p.parent.pid)
}

func sysSetTidAddress(t *Task, a *[6]uint64) int64 {
	t.clearTID = a[0]
	return int64(t.tid)
}

// robustListHead is sizeof(struct robust_list_head).
const robustListHead = 24

// A robust futex list is walked at the thread's exit (futexExit).
func sysSetRobustList(t *Task, a *[6]uint64) int64 {
	if a[1] != robustListHead {
		return -linux.EINVAL
	}
	t.robustList.Store(a[0])
	return 0
}

// sysGetRobustList is get_robust_list(pid, head_ptr, len_ptr)
// (kernel/futex/syscalls.c): the robust list head of the thread pid
// names (0: the caller), of any process the caller may read (ESRCH,
// EPERM); the length is written first, always the head's size.
func sysGetRobustList(t *Task, a *[6]uint64) int64 {
	o := t
	if pid := int32(a[0]); pid != 0 { // an int: the upper half ignored
		t.p.w.mu.Lock()
		o = t.p.w.taskByID(pid)
		t.p.w.mu.Unlock()
		if o == nil {
			return -linux.ESRCH
		}
		if !t.mayTrace(o.p) {
			return -linux.EPERM
		}
	}
	if mem.WriteUint64(t.p.m, a[2], robustListHead) != nil {
		return -linux.EFAULT
	}
	return errno(mem.WriteUint64(t.p.m, a[1], o.robustList.Load()))
}

// sysSchedGetaffinity reports one CPU, CPU 0, for any thread pid names
// (kernel/sched/syscalls.c sched_getaffinity: EINVAL for a mask shorter
// than a long or not a whole number of longs, ESRCH for no such thread);
// the result is the bytes written, one long.
func sysSchedGetaffinity(t *Task, a *[6]uint64) int64 {
	size := a[1]
	if size < 8 || size%8 != 0 {
		return -linux.EINVAL
	}
	if _, e := t.affinityTarget(int32(a[0])); e != 0 {
		return e
	}
	if err := mem.WriteUint64(t.p.m, a[2], 1); err != nil {
		return -linux.EFAULT
	}
	return 8
}

// sysSchedSetaffinity accepts a mask that holds CPU 0, the one CPU the
// application runs on (sched_getaffinity reports it): a mask of only
// other CPUs gives EINVAL, as Linux gives for a mask without an online
// CPU. pid names any thread (0: the caller), ESRCH for none, EPERM for
// one the caller may not change (kernel/sched/syscalls.c
// sched_setaffinity: check_same_owner or CAP_SYS_NICE).
func sysSchedSetaffinity(t *Task, a *[6]uint64) int64 {
	pid, size, addr := int32(a[0]), a[1], a[2]
	var b [1]byte // CPU 0's byte, clear when size is 0 (get_user_cpu_mask)
	if size > 0 {
		if err := t.p.m.CopyIn(addr, b[:]); err != nil {
			return -linux.EFAULT
		}
	}
	o, e := t.affinityTarget(pid)
	if e != 0 {
		return e
	}
	if !t.mayChange(o) {
		return -linux.EPERM
	}
	if b[0]&1 == 0 {
		return -linux.EINVAL
	}
	return 0
}

// affinityTarget finds the thread pid names (0: the caller) for
// sched_getaffinity and sched_setaffinity, which have no check of their
// own for a negative pid: ESRCH (find_process_by_pid).
func (t *Task) affinityTarget(pid int32) (*Task, int64) {
	if pid < 0 {
		return nil, -linux.ESRCH
	}
	return t.schedTarget(pid)
}

func sysArchPrctl(t *Task, a *[6]uint64) int64 {
	switch a[0] {
	case linux.ArchSetFS:
		if a[1] >= taskSizeMax { // do_arch_prctl_64, arch/x86/kernel/process_64.c
			return -linux.EPERM
		}
		t.regs.FSBase = a[1]
		return 0
	case linux.ArchGetFS:
		return errno(mem.WriteUint64(t.p.m, a[1], t.regs.FSBase))
	case archGetCPUID:
		return 1 // CPUID never faults (get_cpuid_mode)
	case archSetCPUID:
		// Linux on a CPU without CPUID faulting, whatever the argument
		// (set_cpuid_mode, arch/x86/kernel/process.c).
		return -linux.ENODEV
	case archSetGS, archGetGS:
		return t.p.unsupported(fmt.Sprintf("arch_prctl code %#x", a[0]), -linux.EINVAL)
	}
	return -linux.EINVAL
}

// arch_prctl codes Linux has and Cocoon refuses
// (arch/x86/include/uapi/asm/prctl.h).
const (
	archSetGS    = 0x1001
	archGetGS    = 0x1004
	archGetCPUID = 0x1011
	archSetCPUID = 0x1012
)

// prctl: thread names, the parent-death signal, the child subreaper, the keep-capabilities
// flag, the ambient capabilities, reading the bounding set,
// no_new_privs and the timer slack; the other options Linux has are
// refused and reported (unsupported).
func sysPrctl(t *Task, a *[6]uint64) int64 {
	const prSetName, prGetName = 15, 16 // include/uapi/linux/prctl.h
	const prSetPdeathsig, prGetPdeathsig = 1, 2
	const prGetKeepcaps, prSetKeepcaps = 7, 8
	const prSetNoNewPrivs, prGetNoNewPrivs = 38, 39
	const prGetDumpable, prSetDumpable = 3, 4
	const prCapAmbient = 47
	const prCapbsetRead, prCapbsetDrop = 23, 24
	const prGetTimerslack, prSetTimerslack = 30, 29
	const prSetChildSubreaper, prGetChildSubreaper = 36, 37
	const prGetSeccomp, prSetSeccomp = 21, 22
	const prLastOption = 80 // above every option Linux 6.x defines
	switch a[0] {
	case prSetChildSubreaper:
		// Any nonzero value sets it (kernel/sys.c: !!arg2); orphaned
		// descendants then come to this process (reap).
		t.p.subreaper.Store(a[1] != 0)
		return 0
	case prGetChildSubreaper:
		var v uint32
		if t.p.subreaper.Load() {
			v = 1
		}
		return errno(mem.WriteUint32(t.p.m, a[1], v))
	case prGetDumpable:
		if t.p.undumpable.Load() {
			return 0
		}
		return 1
	case prSetDumpable:
		// 0 or SUID_DUMP_USER (kernel/sys.c): SUID_DUMP_ROOT is refused.
		if a[1] > 1 {
			return -linux.EINVAL
		}
		t.p.undumpable.Store(a[1] == 0)
		return 0
	case prSetNoNewPrivs:
		// Once set it stays set (Documentation/userspace-api/no_new_privs.rst).
		if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return -linux.EINVAL
		}
		t.noNewPrivs.Store(true)
		return 0
	case prGetNoNewPrivs:
		if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return -linux.EINVAL
		}
		if t.noNewPrivs.Load() {
			return 1
		}
		return 0
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
		t.setName(b)
		return 0
	case prGetName:
		name := t.getName()
		return errno(t.p.m.CopyOut(a[1], name[:]))
	case prSetPdeathsig:
		if a[1] != 0 && !validSig(a[1]) {
			return -linux.EINVAL
		}
		t.pdeathSig.Store(int32(a[1]))
		return 0
	case prGetPdeathsig:
		return errno(mem.WriteUint32(t.p.m, a[1], uint32(t.pdeathSig.Load())))
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
	case prCapAmbient:
		return t.capAmbient(a[1], a[2], a[3], a[4])
	case prGetTimerslack:
		// The slack as the return value, a long: the largest reads
		// as -1, an error to the C library (kernel/sys.c). The
		// other arguments are ignored, as there.
		return int64(t.timerSlack.Load())
	case prSetTimerslack:
		t.setTimerSlack(a[1])
		return 0
	case prCapbsetRead, prCapbsetDrop:
		return t.capbset(a[1], a[0] == prCapbsetDrop)
	case prGetSeccomp, prSetSeccomp:
		return t.prctlSeccomp(a[0] == prSetSeccomp, a)
	}
	if a[0] > 0 && a[0] < prLastOption {
		return t.p.unsupported(fmt.Sprintf("prctl option %d", a[0]), -linux.EINVAL)
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

// rlimitNproc is RLIMIT_NPROC (include/uapi/asm-generic/resource.h).
const rlimitNproc = 6

// overNproc reports whether a new task of p would pass RLIMIT_NPROC: the
// tasks of its real user (threads, and processes not yet reaped) would
// be more than the limit, and the user is not root and p has neither
// CAP_SYS_RESOURCE nor CAP_SYS_ADMIN (kernel/fork.c copy_process,
// EAGAIN). The tasks are counted only when the limit is set.
func (p *Process) overNproc() bool {
	limit := p.rlimit(rlimitNproc)
	if limit == ^uint64(0) {
		return false
	}
	p.mu.Lock()
	ruid, exempt := p.cred.ruid, p.cred.ruid == 0 || p.cred.capable(capSysResource) || p.cred.capable(capSysAdmin)
	p.mu.Unlock()
	if exempt {
		return false
	}
	w := p.w
	w.mu.Lock()
	procs := make([]*Process, 0, len(w.procs))
	zombie := make([]bool, 0, len(w.procs))
	for _, q := range w.procs {
		procs = append(procs, q)
		zombie = append(zombie, q.zombie)
	}
	w.mu.Unlock()
	n := uint64(1) // the new task
	for i, q := range procs {
		q.mu.Lock()
		switch {
		case q.cred.ruid != ruid:
		case zombie[i]:
			n++ // its group leader, until reaped
		default:
			n += uint64(len(q.tasks))
		}
		q.mu.Unlock()
	}
	return n > limit
}

// tableCopier is what a Files tells of copying its descriptor table.
type tableCopier interface {
	TableBytes() int64
	TableShared() bool
}

// tableCopyFits reports whether a copy of t's descriptor table fits in
// the memory the application may still take. Linux charges a copied
// fdtable to the caller and fails the clone or unshare with ENOMEM when
// it cannot have it (fs/file.c dup_fd); here a large copy must leave the
// kernel its reserve (at most RAM/8, at least 8 MiB), or a thread bomb
// over a table of a million descriptors would take the kernel's memory.
func (t *Task) tableCopyFits() bool {
	c, ok := t.files.(tableCopier)
	cfg := t.p.cfg
	if !ok || cfg.FreeRAM == nil {
		return true
	}
	const small = 64 << 10 // like any other allocation a call makes
	n := uint64(c.TableBytes())
	if n <= small {
		return true
	}
	reserve, free := max(cfg.RAM/8, 8<<20), cfg.FreeRAM()
	return free > reserve && n <= free-reserve
}

func (p *Process) threadCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tasks)
}

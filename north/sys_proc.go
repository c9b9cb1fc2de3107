package north

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sigframe"
)

// Processes. A guest runs one tree of processes (a world) started by its
// first program, pid 1. Each process has its own address space (shared,
// for CLONE_VM, until it execs), descriptor table, credentials and signal
// dispositions; its threads are Tasks. Process and thread IDs come from
// one number space, and a process's ID is its first thread's.

// procCalls are the system calls this file serves (registerAll).
var procCalls = [...]call{
	{57, sysFork},    // fork
	{58, sysVfork},   // vfork
	{435, sysClone3}, // clone3
	{59, sysExecve},  // execve
	{322, sysExecveat},
	{61, sysWait4}, // wait4
	{247, sysWaitid},
	{109, sysSetpgid}, // setpgid
	{121, sysGetpgid}, // getpgid
	{111, func(t *Task, a *[6]uint64) int64 { // getpgrp
		return int64(t.p.pgid.Load())
	}},
	{112, sysSetsid}, // setsid
	{124, sysGetsid}, // getsid
}

func init() { registerAll(procCalls[:]) }

// world is the processes of one guest.
type world struct {
	mu      sync.Mutex
	procs   map[int32]*Process // live and zombie processes, by pid
	nextID  int32              // the next process or thread ID
	lastID  int32              // the last one given out (/proc/loadavg)
	init    *Process
	changed chan struct{} // closed and replaced when a child changes state

	tty ttyState // the console as controlling terminal (jobctl.go)
	uts utsNames // the host and domain names (sys_system.go)

	sigq    sync.Map // real user ID -> *atomic.Int64, queued signals (RLIMIT_SIGPENDING)
	unknown sync.Map // syscall number -> *atomic.Int64, at most maxUnknownNumbers of them
	refused sync.Map // unsupported use (see unsupported) -> *atomic.Int64

	// unknownNumbers is how many numbers unknown holds (or is about to);
	// unknownOther counts the calls of numbers beyond them.
	unknownNumbers, unknownOther atomic.Int64

	shm   shmState   // System V shared memory (sys_shm.go)
	sem   semState   // System V semaphores (sysv_sem.go)
	msg   msgState   // System V message queues (sysv_msg.go)
	futex futexTable // the threads waiting on futexes (futex.go)
	load  loadAvg    // the load average (loadavg.go)
	oom   oomKiller  // the out-of-memory killer (oom.go)

	// utime and stime are the CPU time of every thread that ran, in
	// nanoseconds; forks counts the processes and threads created
	// (/proc/stat's cpu line and processes).
	utime, stime atomic.Int64
	forks        atomic.Int64
}

// maxPid bounds process and thread IDs (Linux's default pid_max).
const maxPid = 1 << 22

// allocID returns a free process or thread ID. Called with w.mu held.
func (w *world) allocID() int32 {
	for {
		id := w.nextID
		w.nextID++
		if w.nextID >= maxPid {
			w.nextID = 2
		}
		if w.procs[id] == nil && w.taskByID(id) == nil {
			w.lastID = id
			w.forks.Add(1)
			return id
		}
	}
}

// taskByID finds a thread of any process. Called with w.mu held.
func (w *world) taskByID(tid int32) *Task {
	for _, p := range w.procs {
		p.mu.Lock()
		t := p.tasks[tid]
		p.mu.Unlock()
		if t != nil {
			return t
		}
	}
	return nil
}

// notify wakes everyone waiting for a child. Called with w.mu held.
func (w *world) notify() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// lookup returns the live or zombie process pid.
func (w *world) lookup(pid int32) *Process {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.procs[pid]
}

// Pid returns the process ID.
func (p *Process) Pid() int32 { return p.pid }

// LookupThread returns the live process one of whose threads is tid, or
// nil.
func (p *Process) LookupThread(tid int32) *Process {
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	if t := p.w.taskByID(tid); t != nil {
		return t.p
	}
	return nil
}

// ProcessFiles is what a Files provides for several processes; without
// it fork and execve give ENOSYS.
//
// A Files is one task's: its descriptor table and its working directory
// and umask, each shared with other tasks or not, as Linux's task points
// at a files_struct and an fs_struct.
type ProcessFiles interface {
	// Clone returns the files of a new task: sharing the descriptor
	// table with shareFiles (CLONE_FILES), else a copy of it; sharing
	// the working directory and umask with shareFS (CLONE_FS), else a
	// copy; in the same process with thread (CLONE_THREAD).
	Clone(shareFiles, shareFS, thread bool) Files
	// Unshare gives the task a private copy of its descriptor table
	// (files) and of its working directory and umask (fs), where other
	// tasks share them (unshare(2)).
	Unshare(files, fs bool)
	// Exec makes the descriptor table private if it is shared, closes
	// its close-on-exec descriptors and records the program file
	// (/proc/self/exe: the file, whatever path reached it) and its
	// arguments (/proc/self/cmdline).
	Exec(exe Executable, argv []string)
	// Release drops the task's use of its table and working directory
	// (it exited): the last task using a table closes its descriptors.
	Release()
	// OpenExec opens the program at path, relative to the working
	// directory or, for execveat, to the directory open as dirfd
	// (linux.AtFdcwd: the working directory), as execve does: the file
	// and the path it was found at, or a negated errno (EACCES if it is
	// not an executable regular file). flags are execveat's: with
	// AT_EMPTY_PATH an empty path is the file open as dirfd; with
	// AT_SYMLINK_NOFOLLOW a final symbolic link is refused (ELOOP).
	OpenExec(dirfd int32, path string, flags uint32) (Executable, string, int64)
	// CloseOnExec reports whether fd is open with its close-on-exec flag.
	CloseOnExec(fd int32) bool
}

// Program is a program loaded by Config.Load into a new address space.
type Program struct {
	Machine        Machine
	Entry, SP, Brk uint64
	// ArgStart..ArgEnd and EnvStart..EnvEnd hold the argument and
	// environment strings on the new stack (stat's arg_start ... env_end).
	ArgStart, ArgEnd, EnvStart, EnvEnd uint64
	// Segments are the program's code and data bounds (stat's
	// start_code, end_code, start_data and end_data; loader.Image).
	Segments [4]uint64
	// StackLow..StackHigh is the stack mapping, with a PROT_NONE guard
	// of StackGuard bytes below it (0: none known, the stack does not
	// grow).
	StackLow, StackHigh, StackGuard uint64
	// Auxv is the auxiliary vector the loader put on the stack, as
	// /proc/PID/auxv reads it: the type and value pairs, 8 bytes each,
	// little-endian, through AT_NULL (mm->saved_auxv).
	Auxv []byte
	// VDSO and VVar are the vDSO's code and data pages [start, end), if
	// it has them (/proc/PID/maps names them).
	VDSO, VVar [2]uint64
}

// ErrNoExec is what Config.Load returns for a file that is no program it
// can load (execve's ENOEXEC).
var ErrNoExec = fmt.Errorf("not an executable format")

// spaceRefs counts the processes using each address space (CLONE_VM
// without CLONE_THREAD shares one until exec).
var spaceRefs sync.Map // Machine -> *atomic.Int32

func holdSpace(m Machine) {
	v, _ := spaceRefs.LoadOrStore(m, new(atomic.Int32))
	v.(*atomic.Int32).Add(1)
}

// dropSpace releases a process's use of m and frees it with the last.
func dropSpace(m Machine) {
	v, ok := spaceRefs.Load(m)
	if !ok || v.(*atomic.Int32).Add(-1) > 0 {
		return
	}
	spaceRefs.Delete(m)
	FreeMachine(m)
}

// FreeMachine frees an address space no process uses (a failed load).
func FreeMachine(m Machine) {
	if k, ok := m.(kernelMachine); ok {
		k.s.Free()
	}
}

// forker is a Machine that can copy itself copy-on-write. refill lists
// the private file mappings, sorted [start, end) pairs, whose pages the
// copy may leave to its faults unless they hold private copies.
type forker interface {
	Fork(refill [][2]uint64) (Machine, error)
}

func (k kernelMachine) Fork(refill [][2]uint64) (Machine, error) {
	s, err := k.s.Fork(refill)
	if err != nil {
		return nil, memErr(err)
	}
	return kernelMachine{s}, nil
}

// sharedFiller is a Machine whose forks share the pages of MAP_SHARED
// mappings (see mm.go).
type sharedFiller interface {
	FillShared(addr, frame uint64) error
}

// FillShared installs a page of a MAP_SHARED mapping (see mm.go).
func (k kernelMachine) FillShared(addr, frame uint64) error {
	return memErr(k.s.FillShared(addr, frame))
}

// More clone flags (include/uapi/linux/sched.h).
const (
	clonePidfd      = 0x1000
	cloneDetached   = 0x400000
	cloneParent     = 0x8000
	cloneNewns      = 0x20000
	cloneUntraced   = 0x800000
	cloneIO         = 0x80000000
	cloneNewFlags   = 0x7e000000 // CLONE_NEWCGROUP..CLONE_NEWNET
	cloneClearSigh  = 0x100000000
	cloneIntoCgroup = 0x200000000
	cloneNewtime    = 0x80
	csignal         = 0xff
)

func sysFork(t *Task, a *[6]uint64) int64 {
	return t.newProcess(uint64(linux.SigChld), 0, 0, 0, 0, 0, 0)
}

func sysVfork(t *Task, a *[6]uint64) int64 {
	return t.newProcess(linux.CloneVM|linux.CloneVfork|uint64(linux.SigChld), 0, 0, 0, 0, 0, 0)
}

// clone3's struct clone_args (include/uapi/linux/sched.h): flags, pidfd,
// child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
// set_tid_size, cgroup; 64 bytes in its first version (CLONE_ARGS_SIZE_VER0).
func sysClone3(t *Task, a *[6]uint64) int64 {
	addr, size := a[0], a[1]
	// kernel/fork.c copy_clone_args_from_user: more than a page is
	// E2BIG, less than CLONE_ARGS_SIZE_VER0 EINVAL.
	if size > 4096 {
		return -linux.E2BIG
	}
	if size < 64 {
		return -linux.EINVAL
	}
	b := make([]byte, size)
	if err := t.p.m.CopyIn(addr, b); err != nil {
		return -linux.EFAULT
	}
	for _, x := range b[min(size, 88):] {
		if x != 0 {
			return -linux.E2BIG
		}
	}
	f := func(i int) uint64 {
		if 8*i+8 > len(b) {
			return 0
		}
		return getU64(b[8*i:])
	}
	flags, pidfd, ctid, ptid, exitSig, stack, stackSize, tls := f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)
	// set_tid: at most MAX_PID_NS_LEVEL IDs, an array if and only if a
	// size (copy_clone_args_from_user).
	setTidAddr, setTidSize := f(8), f(9)
	if setTidSize > 32 || (setTidAddr == 0) != (setTidSize == 0) {
		return -linux.EINVAL
	}
	if exitSig&^csignal != 0 || exitSig > linux.NSig || (stack == 0) != (stackSize == 0) {
		return -linux.EINVAL
	}
	// clone3_args_valid: no CLONE_DETACHED nor exit signal in the
	// flags, no exit signal for a thread or a CLONE_PARENT child, and
	// CLONE_CLEAR_SIGHAND cannot go with shared handlers.
	if flags&(cloneDetached|csignal) != 0 || flags&(linux.CloneThread|cloneParent) != 0 && exitSig != 0 ||
		flags&(cloneClearSigh|linux.CloneSighand) == cloneClearSigh|linux.CloneSighand {
		return -linux.EINVAL
	}
	if flags&clonePidfd != 0 && flags&cloneParentSettid != 0 && pidfd == ptid {
		return -linux.EINVAL // one int cannot take both (clone3_args_valid)
	}
	var setTid int32
	if setTidSize != 0 {
		var b [32 * 4]byte
		if err := t.p.m.CopyIn(setTidAddr, b[:4*setTidSize]); err != nil {
			return -linux.EFAULT
		}
		// One PID namespace: one ID to choose, from 1 to pid_max - 1,
		// by a process with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE;
		// one in use is EEXIST (kernel/pid.c alloc_pid).
		id := int32(uint32(getU64(b[:8])))
		const capCheckpointRestore = 40
		switch {
		case setTidSize > 1 || id < 1 || id >= maxPid:
			return -linux.EINVAL
		case !t.Capable(capSysAdmin) && !t.Capable(capCheckpointRestore):
			return -linux.EPERM
		case flags&linux.CloneThread != 0:
			return t.p.unsupported("clone3 set_tid for a thread", -linux.EINVAL)
		}
		setTid = id
	}
	if stack != 0 {
		stack += stackSize
	}
	if flags&linux.CloneThread != 0 {
		if flags&clonePidfd != 0 {
			return t.p.unsupported("CLONE_PIDFD with CLONE_THREAD (pidfds of threads)", -linux.EINVAL)
		}
		return t.clone(flags, stack, ptid, ctid, tls)
	}
	return t.newProcess(flags|exitSig, stack, ptid, ctid, tls, pidfd, setTid)
}

// newProcess is fork, vfork and clone without CLONE_THREAD: a child
// process whose address space is a copy-on-write copy of the caller's
// (or, with CLONE_VM, the caller's own until it execs), with the same
// open files and dispositions, running from the same place with RAX 0.
// With CLONE_PIDFD the caller gets a pidfd of the child at pidfdAddr;
// setTid, if not 0, is the child's PID (clone3's set_tid).
func (t *Task) newProcess(flags, stack, ptid, ctid, tls, pidfdAddr uint64, setTid int32) int64 {
	p := t.p
	if mem.KernelShort() || kernel.UserMemoryShort() {
		return -linux.ENOMEM // copy_process: dup_task_struct failed
	}
	if p.overNproc() {
		return -linux.EAGAIN
	}
	// kernel/fork.c copy_process: a new mount or user namespace cannot
	// share the working directory and root.
	if flags&cloneFS != 0 && flags&(cloneNewns|cloneNewuser) != 0 {
		return -linux.EINVAL
	}
	// Shared handlers need a shared address space (copy_process).
	if flags&linux.CloneSighand != 0 && flags&linux.CloneVM == 0 {
		return -linux.EINVAL
	}
	// Init cannot make a sibling: it has no parent (copy_process, the
	// SIGNAL_UNKILLABLE check).
	if flags&cloneParent != 0 && p.isInit() {
		return -linux.EINVAL
	}
	if flags&(cloneNewFlags|cloneNewns|cloneNewtime|cloneIntoCgroup) != 0 {
		return p.unsupported("clone with new namespaces", -linux.EPERM)
	}
	if flags&(linux.CloneSighand|cloneSysvsem) != 0 {
		return p.unsupported("clone of a process sharing handlers or semaphore undo", -linux.EINVAL)
	}
	if flags&clonePidfd != 0 {
		if flags&cloneDetached != 0 {
			return -linux.EINVAL
		}
		if e := t.checkClonePidfd(pidfdAddr); e != 0 {
			return e
		}
	}
	pf, ok := t.files.(ProcessFiles)
	if !ok {
		return p.unsupported("fork without process files", -linux.ENOSYS)
	}
	if flags&cloneFiles == 0 && !t.tableCopyFits() {
		return -linux.ENOMEM
	}
	// Legacy clone takes any exit signal: one past _NSIG is never sent
	// (kernel/signal.c do_notify_parent sends only a valid_signal), and
	// the child is a clone child to wait for (not SIGCHLD).
	exitSig := int(flags & csignal)
	var m Machine
	var vmas []*fileVMA
	var dontfork, wipeonfork, drop, grows, vdso, vvar []span
	var sealed []span
	p.mm.mu.Lock()
	if flags&linux.CloneVM != 0 {
		m = p.m
	} else {
		fk, ok := p.m.(forker)
		if !ok {
			p.mm.mu.Unlock()
			return p.unsupported("fork on a machine without copy-on-write", -linux.ENOSYS)
		}
		// Linux's fork copies no page-table entry of a mapping a fault
		// fills again (mm/memory.c vma_needs_copy): shared mappings
		// (the kernel knows their pages) and private file mappings
		// with no page of their own (anon_vma), listed here.
		var refill [][2]uint64
		for _, v := range p.mm.vmas {
			if !v.shared {
				refill = append(refill, [2]uint64{v.start, v.end})
			}
		}
		var err error
		if m, err = fk.Fork(refill); err != nil {
			p.mm.mu.Unlock()
			if e := errno(err); e != -linux.EAGAIN {
				return e
			}
			// Every address space the kernel has is in use (kernel
			// maxSpaces): a limit on processes, as Linux's are EAGAIN.
			return p.unsupported("fork beyond the kernel's 64 live address spaces", -linux.EAGAIN)
		}
	}
	if flags&linux.CloneVM != 0 {
		p.mm.users++ // one address space, one set of ranges
	} else {
		vmas = append(vmas, p.mm.vmas...)
		dontfork = append(dontfork, p.mm.dontfork...)
		wipeonfork = append(wipeonfork, p.mm.wipeonfork...)
		sealed = append(sealed, p.mm.sealed...) // dup_mmap copies VM_SEALED
		drop = append(drop, p.mm.drop...)
		grows = append(grows, p.mm.grows...)
		vdso = append(vdso, p.mm.vdso...)
		vvar = append(vvar, p.mm.vvar...)
	}
	holdSpace(m)
	p.mm.mu.Unlock()

	cfg := p.cfg
	cfg.Machine = m
	c := &Process{
		cfg:       cfg,
		m:         m,
		w:         p.w,
		tasks:     map[int32]*Task{},
		done:      make(chan struct{}),
		ended:     make(chan struct{}),
		startTime: time.Now(),
		startMono: monotonic(),
		parent:    p,
		parentTid: t.tid,
	}
	c.exitSig.Store(int32(exitSig))
	c.futex = p.futex
	c.sig.init()
	if flags&linux.CloneVM != 0 {
		c.mm = p.mm
	} else {
		c.mm = &mmState{users: 1}
		if p.mm.exe != nil {
			c.mm.exe = p.mm.exe.Dup() // dup_mm_exe_file
		}
		c.mm.stackSP.Store(p.mm.stackSP.Load())
		c.mm.strings = p.mm.strings   // dup_mm copies arg_start ... env_end
		c.mm.segments = p.mm.segments // and start_code ... end_data
		c.mm.stack = p.mm.stack
		c.mm.stackLow.Store(p.mm.stack[0])
		c.mm.auxv = p.mm.auxv // and saved_auxv
		// dup_mmap copies the special mappings (forkAdvised takes the
		// MADV_DONTFORK parts out).
		c.mm.vdso, c.mm.vvar = vdso, vvar
		// dup_mmap copies VM_SEALED, of the mappings the child gets.
		c.mm.sealed = withoutSpans(sealed, dontfork)
		c.setCopyHooks()
	}
	for _, v := range vmas {
		nv := *v
		vp := &nv
		vp.pager = v.pager.Clone(c.invalidator(vp))
		c.mm.vmas = append(c.mm.vmas, vp)
	}
	if flags&linux.CloneVM == 0 {
		c.forkAdvised(m, dontfork, wipeonfork, drop, grows)
		p.forkShm(c, dontfork)
	}
	p.mu.Lock()
	c.brkStart, c.brk = p.brkStart, p.brk
	c.rlimits = map[uint64][2]uint64{}
	for k, v := range p.rlimits {
		c.rlimits[k] = v
	}
	c.cred = p.cred
	c.cred.groups = append([]uint32(nil), p.cred.groups...)
	p.mu.Unlock()
	c.oom.adj.Store(p.oom.adj.Load())
	c.oom.min.Store(p.oom.min.Load())
	c.keepCaps.Store(p.keepCaps.Load())
	c.undumpable.Store(p.undumpable.Load())
	p.sig.mu.Lock()
	c.sig.act = p.sig.act
	p.sig.mu.Unlock()
	if flags&cloneClearSigh != 0 {
		// Handlers go back to the default, ignored signals stay
		// ignored (copy_sighand: flush_signal_handlers(p, 0)).
		for i := range c.sig.act {
			if c.sig.act[i].handler > sigIgn {
				c.sig.act[i] = sigAction{}
			}
		}
	}
	c.pgid.Store(p.pgid.Load())
	c.sid.Store(p.sid.Load())
	c.noCtty.Store(p.noCtty.Load())
	c.files = pf.Clone(flags&cloneFiles != 0, flags&cloneFS != 0, false)
	p.mu.Lock()
	c.exe, c.args, c.commName = p.exe, p.args, p.commName
	p.mu.Unlock()

	r := kernel.NewUserRegs()
	r.CopyFrom(t.regs)
	r.Frame.RAX = 0
	if stack != 0 {
		r.Frame.RSP = stack
	}
	if flags&linux.CloneSettls != 0 {
		if tls >= 1<<47 {
			r.Release()
			c.files.(ProcessFiles).Release() // no thread took them
			c.release()
			return -linux.EPERM
		}
		r.FSBase = tls
	}
	if flags&linux.CloneVfork != 0 {
		c.vforkDone = make(chan struct{})
	}
	w := p.w
	w.mu.Lock()
	if setTid != 0 {
		if w.procs[setTid] != nil || w.taskByID(setTid) != nil {
			w.mu.Unlock()
			r.Release()
			c.files.(ProcessFiles).Release() // no thread took them
			c.release()
			return -linux.EEXIST
		}
		c.pid = setTid
		w.lastID = setTid
		w.forks.Add(1)
	} else {
		c.pid = w.allocID()
	}
	w.procs[c.pid] = c
	par := p
	if flags&cloneParent != 0 && p.parent != nil {
		// CLONE_PARENT: the caller's parent is the child's, and the
		// caller's exit signal is its (copy_process).
		par = p.parent
		c.parent, c.parentTid = par, p.parentTid
		c.exitSig.Store(p.exitSig.Load())
	}
	if par.children == nil {
		par.children = map[int32]*Process{}
	}
	par.children[c.pid] = c
	w.mu.Unlock()
	if s, ok := c.files.(interface{ SetPid(int32) }); ok {
		s.SetPid(c.pid)
	}
	c.ownFiles()
	ct := c.newTaskID(r, c.pid)
	ct.sigMask = t.sigMask
	ct.lastTrap = t.lastTrap
	ct.noNewPrivs.Store(t.noNewPrivs.Load())
	ct.seccomp.Store(t.seccomp.Load()) // copy_seccomp
	ct.inheritSlack(t)
	ct.inheritSched(t)
	t.inheritIO(ct, flags)
	if flags&linux.CloneVM == 0 {
		ct.rseq = t.rseq // rseq_fork: a vfork child shares none
	}
	ct.altStack = t.altStack
	ct.setName(t.getName())
	if flags&cloneParentSettid != 0 {
		mem.WriteUint32(p.m, ptid, uint32(c.pid))
	}
	if flags&cloneChildSettid != 0 {
		mem.WriteUint32(m, ctid, uint32(c.pid))
	}
	if flags&cloneChildCleartid != 0 {
		ct.clearTID = ctid
	}
	if flags&clonePidfd != 0 {
		if e := t.clonePidfd(c, pidfdAddr); e != 0 {
			// Lost a race with another thread unmapping the int
			// checkClonePidfd found writable: the child never runs.
			c.exitKilled(linux.SigKill)
			go ct.loop()
			return e
		}
	}
	go ct.loop()
	if c.vforkDone != nil {
		// The parent sleeps until the child execs or exits (vfork(2)).
		select {
		case <-c.vforkDone:
		case <-p.done:
		}
	}
	return int64(c.pid)
}

// release frees what a process holds once its last thread is gone: its
// files and its address space. Its children go to init.
func (p *Process) release() {
	p.exitTimers(true)
	p.detachShm()
	p.dropMM()
	if p.vforkDone != nil {
		p.closeVfork()
	}
	p.leaveSpace(p.m)
	p.filesGone.Store(true)
	dropSpace(p.m)
	// What it held in the kernel's heap is garbage now: the next
	// shortage check collects it at once.
	kernel.MemoryFreed()
}

func (p *Process) closeVfork() {
	p.vforkOnce.Do(func() { close(p.vforkDone) })
}

// reap ends a process whose threads are all gone: it becomes a zombie
// for its parent to wait for (or is forgotten at once if the parent
// ignores SIGCHLD), its children go to init, and the parent gets its
// exit signal.
func (p *Process) reap() {
	p.release()
	w := p.w
	w.mu.Lock()
	// The groups p's exit may orphan: its own and its children's
	// (kernel/exit.c kill_orphaned_pgrp).
	groups := map[int32]bool{p.pgid.Load(): w.orphanedLocked(p.pgid.Load(), nil)}
	for _, c := range p.children {
		if _, ok := groups[c.pgid.Load()]; !ok && !c.zombie {
			groups[c.pgid.Load()] = w.orphanedLocked(c.pgid.Load(), nil)
		}
	}
	// The children go to the nearest ancestor that is a child
	// subreaper and still alive, else to init (kernel/exit.c
	// find_new_reaper), with SIGCHLD as their exit signal; one that is a
	// zombie already is announced to its new parent (reparent_leader).
	reaper, reaperTid := w.init, int32(1)
	for a := p.parent; a != nil && a != w.init; a = a.parent {
		if a.subreaper.Load() && !a.zombie && !a.exiting() {
			reaper, reaperTid = a, a.pid
			break
		}
	}
	var dead []*Process
	for pid, c := range p.children {
		c.parent = reaper
		c.parentTid = reaperTid
		c.exitSig.Store(linux.SigChld)
		if reaper != nil && reaper != p {
			if reaper.children == nil {
				reaper.children = map[int32]*Process{}
			}
			reaper.children[pid] = c
			if c.zombie {
				dead = append(dead, c)
			}
		}
	}
	p.children = nil
	if len(dead) > 0 && reaper.autoreaps() {
		for _, c := range dead {
			delete(reaper.children, c.pid)
			delete(w.procs, c.pid)
			c.sig.dropShared()
		}
	}
	parent := p.parent
	p.zombie = true
	// A group this exit orphans that has a stopped process gets SIGHUP
	// and SIGCONT, since no one is left to continue it.
	var hup []int32
	for g, was := range groups {
		if !was && w.orphanedLocked(g, nil) && w.stoppedInGroup(g) {
			hup = append(hup, g)
		}
	}
	if parent != nil {
		if parent.autoreaps() {
			delete(parent.children, p.pid)
			delete(w.procs, p.pid)
			p.sig.dropShared()
		}
	}
	close(p.ended)
	w.notify()
	w.mu.Unlock()
	p.endWatch.end()
	for _, g := range hup {
		w.signalGroup(g, sigInfo{signo: linux.SigHup, code: linux.SiKernel})
		w.signalGroup(g, sigInfo{signo: linux.SigCont, code: linux.SiKernel})
	}
	if p.sid.Load() == p.pid {
		w.disassociate(p.pid) // the controlling process is gone
	}
	if sig := int(p.exitSig.Load()); parent != nil && validSig(uint64(sig)) && !parent.exiting() {
		parent.send(nil, p.exitInfo(sig))
	}
	if reaper != nil && reaper != p && !reaper.exiting() {
		for _, c := range dead {
			reaper.send(nil, c.exitInfo(linux.SigChld))
		}
	}
	if p == w.init {
		// Init is gone: so is everyone else (the guest powers off).
		w.mu.Lock()
		var rest []*Process
		for _, q := range w.procs {
			if q != p {
				rest = append(rest, q)
			}
		}
		w.mu.Unlock()
		for _, q := range rest {
			q.exitKilled(linux.SigKill)
		}
	}
}

// exitInfo is the exit signal sig telling p's parent how p ended.
func (p *Process) exitInfo(sig int) sigInfo {
	code := int32(linux.CldExited)
	status := p.waitStatus >> 8 & 0xff
	if p.waitStatus&0x7f != 0 {
		code, status = linux.CldKilled, p.waitStatus&0x7f
	}
	info := sigInfo{signo: sig, code: code, pid: p.pid, status: int32(status)}
	if sig != linux.SigChld {
		// Another exit signal carries the same _sigchld fields
		// (do_notify_parent fills them whatever the signal), which
		// the layout by signal number would not write.
		b := sigframe.SigInfo{Signo: linux.SigChld, Code: code, Pid: p.pid, Status: int32(status)}.Marshal()
		info.raw = &b
	}
	return info
}

// autoreaps reports whether p's children are forgotten when they exit:
// SIGCHLD ignored or SA_NOCLDWAIT (kernel/signal.c do_notify_parent).
func (p *Process) autoreaps() bool {
	act := p.sig.action(linux.SigChld)
	const saNocldwait = 2 // include/uapi/asm-generic/signal-defs.h
	return act.handler == sigIgn || act.flags&saNocldwait != 0
}

// exitKilled ends the process as killed by signal sig.
func (p *Process) exitKilled(sig int) { p.exitWith(128+sig, sig) }

// Wait options (include/uapi/linux/wait.h).
const (
	wNohang    = 1
	wUntraced  = 2 // WSTOPPED for waitid
	wExited    = 4
	wContinued = 8
	wNowait    = 0x01000000
	wNothread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// waitResult is a child's change of state that a wait reports: its exit
// (code CLD_EXITED or CLD_KILLED), or with WUNTRACED/WCONTINUED a stop
// or a continue; status is wait4's encoding, sigStatus waitid's
// si_status.
type waitResult struct {
	c         *Process
	code      int32
	status    int
	sigStatus int32
}

// waitFor finds a child that match accepts and that has exited (with
// wExited, which wait4 always has), stopped (wUntraced) or continued
// (wContinued), and reaps it (or takes the stop or continue report)
// unless keep. It returns what it found (c nil if nothing yet) or a
// negated errno (ECHILD: no such child).
func (t *Task) waitFor(match func(c *Process) bool, options uint64, keep bool) (waitResult, int64) {
	p := t.p
	w := p.w
	for {
		w.mu.Lock()
		found := false
		for _, c := range p.children {
			if !match(c) {
				continue
			}
			// __WCLONE waits only for children whose exit signal is not
			// SIGCHLD, __WALL for all (wait(2)).
			if options&wAll == 0 && (options&wClone != 0) != (c.exitSig.Load() != linux.SigChld) {
				continue
			}
			// __WNOTHREAD: only the calling thread's own children
			// (kernel/exit.c do_wait_thread for current alone).
			if options&wNothread != 0 && c.parentTid != t.tid {
				continue
			}
			found = true
			if c.zombie && options&wExited != 0 {
				if !keep {
					delete(p.children, c.pid)
					delete(w.procs, c.pid)
				}
				w.mu.Unlock()
				if !keep {
					c.sig.dropShared()
					p.cutime.Add(c.utime.Load() + c.cutime.Load())
					p.cstime.Add(c.stime.Load() + c.cstime.Load())
					p.io.add(&c.io)
					p.reapRSS(c)
				}
				r := waitResult{c: c, code: linux.CldExited, status: c.waitStatus, sigStatus: int32(c.waitStatus >> 8 & 0xff)}
				if c.waitStatus&0x7f != 0 {
					r.code, r.sigStatus = linux.CldKilled, int32(c.waitStatus&0x7f)
				}
				return r, 0
			}
			if c.zombie {
				continue
			}
			// A stop is reported once to WUNTRACED, a continue once to
			// WCONTINUED (kernel/exit.c wait_task_stopped,
			// wait_task_continued): status sig<<8|0x7f and 0xffff.
			switch rep := c.stop.report; {
			case rep == linux.CldStopped && options&wUntraced != 0:
				if !keep {
					c.stop.report = 0
				}
				w.mu.Unlock()
				return waitResult{c: c, code: rep, status: c.stop.sig<<8 | 0x7f, sigStatus: int32(c.stop.sig)}, 0
			case rep == linux.CldContinued && options&wContinued != 0:
				if !keep {
					c.stop.report = 0
				}
				w.mu.Unlock()
				return waitResult{c: c, code: rep, status: 0xffff, sigStatus: linux.SigCont}, 0
			}
		}
		ch := w.changed
		w.mu.Unlock()
		if !found {
			return waitResult{}, -linux.ECHILD
		}
		if options&wNohang != 0 {
			return waitResult{}, 0
		}
		select {
		case <-ch:
		case <-t.wake:
			return waitResult{}, -linux.EINTR
		}
	}
}

func (p *Process) matcher(pid int32) func(c *Process) bool {
	switch {
	case pid == -1:
		return func(*Process) bool { return true }
	case pid == 0:
		g := p.pgid.Load()
		return func(c *Process) bool { return c.pgid.Load() == g }
	case pid < -1:
		return func(c *Process) bool { return c.pgid.Load() == -pid }
	}
	return func(c *Process) bool { return c.pid == pid }
}

func sysWait4(t *Task, a *[6]uint64) int64 {
	pid, status, options, rusage := int32(a[0]), a[1], a[2], a[3]
	if options&^(wNohang|wUntraced|wContinued|wNothread|wAll|wClone) != 0 {
		return -linux.EINVAL
	}
	if pid == -1<<31 {
		return -linux.ESRCH // -INT_MIN is not defined (kernel/exit.c kernel_wait4)
	}
	res, r := t.waitFor(t.p.matcher(pid), options|wExited, false)
	c := res.c
	if c == nil {
		return r
	}
	if status != 0 {
		if mem.WriteUint32(t.p.m, status, uint32(res.status)) != nil {
			return -linux.EFAULT
		}
	}
	if rusage != 0 {
		if t.p.m.CopyOut(rusage, childRusage(c)) != nil {
			return -linux.EFAULT
		}
	}
	return int64(c.pid)
}

// childRusage is struct rusage (include/uapi/linux/resource.h) with the
// CPU times of a reaped child and its own reaped children, and the most
// memory resident in either (ru_maxrss).
func childRusage(c *Process) []byte {
	b := make([]byte, 144)
	tv := func(off int, ns int64) {
		putU64(b[off:], uint64(ns/1e9))
		putU64(b[off+8:], uint64(ns%1e9/1e3))
	}
	tv(0, c.utime.Load()+c.cutime.Load())
	tv(16, c.stime.Load()+c.cstime.Load())
	putU64(b[32:], kib(max(c.maxrss.Load(), c.cmaxrss.Load())))
	return b
}

// waitid id types (include/uapi/linux/wait.h).
const (
	pAll   = 0
	pPid   = 1
	pPgid  = 2
	pPidfd = 3
)

func sysWaitid(t *Task, a *[6]uint64) int64 {
	idtype, id, infop, options, rusage := a[0], int32(a[1]), a[2], a[3], a[4]
	if options&^(wNohang|wUntraced|wExited|wContinued|wNowait|wNothread|wAll|wClone) != 0 ||
		options&(wExited|wUntraced|wContinued) == 0 {
		return -linux.EINVAL
	}
	var match func(*Process) bool
	switch idtype {
	case pAll:
		match = t.p.matcher(-1)
	case pPid:
		if id <= 0 {
			return -linux.EINVAL
		}
		match = t.p.matcher(id)
	case pPgid:
		if id < 0 {
			return -linux.EINVAL
		}
		if id == 0 {
			id = t.p.pgid.Load()
		}
		match = t.p.matcher(-id)
	case pPidfd:
		q, nonblock, e := t.pidfdWaitTarget(id)
		if q == nil {
			return e
		}
		match = func(c *Process) bool { return c == q }
		if nonblock && options&wNohang == 0 {
			// A PIDFD_NONBLOCK pidfd: EAGAIN instead of blocking
			// (kernel_waitid).
			if res, e := t.waitFor(match, options|wNohang, true); res.c == nil && e == 0 {
				return -linux.EAGAIN
			}
		}
	default:
		return -linux.EINVAL
	}
	res, r := t.waitFor(match, options, options&wNowait != 0)
	if r != 0 {
		return r
	}
	c := res.c
	// siginfo_t for SIGCHLD: signo, errno, code, pid at 16, uid at 20,
	// status at 24 (include/uapi/asm-generic/siginfo.h); zero when
	// nothing is ready under WNOHANG, as Linux writes it.
	if infop != 0 {
		var b [32]byte
		if c != nil {
			putU32(b[0:], linux.SigChld)
			putU32(b[8:], uint32(res.code))
			putU32(b[16:], uint32(c.pid))
			putU32(b[24:], uint32(res.sigStatus))
		}
		if t.p.m.CopyOut(infop, b[:]) != nil {
			return -linux.EFAULT
		}
	}
	if rusage != 0 && c != nil {
		if t.p.m.CopyOut(rusage, childRusage(c)) != nil {
			return -linux.EFAULT
		}
	}
	return 0
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// Process groups and sessions.

func sysSetpgid(t *Task, a *[6]uint64) int64 {
	pid, pgid := int32(a[0]), int32(a[1])
	if pgid < 0 {
		return -linux.EINVAL
	}
	p := t.p
	target := p
	if pid != 0 && pid != p.pid {
		target = p.w.lookup(pid)
		if target == nil || target.parent != p {
			return -linux.ESRCH
		}
		if target.sid.Load() != p.sid.Load() {
			return -linux.EPERM
		}
		if target.execed.Load() {
			return -linux.EACCES
		}
	}
	if target.sid.Load() == target.pid {
		return -linux.EPERM // a session leader
	}
	if pgid == 0 {
		pgid = target.pid
	}
	if pgid != target.pid {
		// The group must exist in the caller's session.
		ok := false
		p.w.mu.Lock()
		for _, q := range p.w.procs {
			if q.pgid.Load() == pgid && q.sid.Load() == p.sid.Load() && !q.zombie {
				ok = true
				break
			}
		}
		p.w.mu.Unlock()
		if !ok {
			return -linux.EPERM
		}
	}
	target.pgid.Store(pgid)
	return 0
}

func (t *Task) procArg(pid int32) (*Process, int64) {
	if pid == 0 || pid == t.p.pid {
		return t.p, 0
	}
	if pid < 0 {
		return nil, -linux.ESRCH
	}
	// A thread's ID names its process (find_task_by_vpid finds any
	// task; its group and session are its process's).
	q := t.p.w.lookup(pid)
	if q == nil {
		q = t.p.LookupThread(pid)
	}
	if q == nil {
		return nil, -linux.ESRCH
	}
	return q, 0
}

func sysGetpgid(t *Task, a *[6]uint64) int64 {
	q, e := t.procArg(int32(a[0]))
	if q == nil {
		return e
	}
	return int64(q.pgid.Load())
}

func sysGetsid(t *Task, a *[6]uint64) int64 {
	q, e := t.procArg(int32(a[0]))
	if q == nil {
		return e
	}
	return int64(q.sid.Load())
}

func sysSetsid(t *Task, a *[6]uint64) int64 {
	p := t.p
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	for _, q := range p.w.procs {
		if q.pgid.Load() == p.pid {
			return -linux.EPERM // already a group leader
		}
	}
	p.sid.Store(p.pid)
	p.pgid.Store(p.pid)
	return int64(p.pid)
}

// Signals to processes.

// killTargets returns the processes kill(pid) addresses, or a negated
// errno (kill_something_info in kernel/signal.c).
func (t *Task) killTargets(pid int32) ([]*Process, int64) {
	w := t.p.w
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*Process
	switch {
	case pid > 0:
		// A thread's ID names its process too (kernel/signal.c
		// kill_pid_info_type: pid_task(PIDTYPE_PID), then the group).
		if q := w.procs[pid]; q != nil {
			out = append(out, q)
		} else if o := w.taskByID(pid); o != nil {
			out = append(out, o.p)
		}
	case pid == -1:
		for _, q := range w.procs {
			if q.pid != 1 && q != t.p {
				out = append(out, q)
			}
		}
	default:
		g := -pid
		if pid == 0 {
			g = t.p.pgid.Load()
		}
		for _, q := range w.procs {
			if q.pgid.Load() == g {
				out = append(out, q)
			}
		}
	}
	if len(out) == 0 {
		return nil, -linux.ESRCH
	}
	return out, 0
}

func sysKill(t *Task, a *[6]uint64) int64 {
	pid, sig := int32(a[0]), a[1]
	if sig != 0 && !validSig(sig) {
		return -linux.EINVAL
	}
	if pid == -1<<31 {
		return -linux.ESRCH
	}
	targets, e := t.killTargets(pid)
	if targets == nil {
		return e
	}
	// kill_something_info (kernel/signal.c): one process gives its own
	// result; a group succeeds if any member was signalled, else gives
	// the last error; -1 ignores EPERM (all refused is still 0).
	var r int64
	sent := false
	for _, q := range targets {
		if err := t.killOne(q, sig); err == 0 {
			sent = true
		} else if pid > 0 || pid < -1 || pid == 0 {
			r = err
		}
	}
	if pid == -1 || sent {
		return 0
	}
	return r
}

// killOne is group_send_sig_info with check_kill_permission: the
// credentials rule (mayKill), or SIGCONT within the sender's session;
// signal 0 only checks.
func (t *Task) killOne(q *Process, sig uint64) int64 {
	if !t.mayKill(q) && !(sig == linux.SigCont && q.sid.Load() == t.p.sid.Load()) {
		return -linux.EPERM
	}
	if sig != 0 && !q.zombie {
		q.sendSignal(sigInfo{signo: int(sig), code: linux.SiUser, pid: t.p.pid})
	}
	return 0
}

// sendSignal sends a process-directed signal; SIGKILL ends the process
// (but init) at once, as it cannot be caught.
func (p *Process) sendSignal(info sigInfo) {
	if info.signo == linux.SigKill {
		p.killBy()
		return
	}
	p.send(nil, info)
}

// Execution of a new program.

func sysExecve(t *Task, a *[6]uint64) int64 {
	return t.execve(linux.AtFdcwd, a[0], a[1], a[2], 0)
}

// sysExecveat is execveat(2): flags other than AT_EMPTY_PATH and
// AT_SYMLINK_NOFOLLOW are EINVAL (fs/exec.c do_open_execat).
func sysExecveat(t *Task, a *[6]uint64) int64 {
	if a[4]&^uint64(linux.AtEmptyPath|linux.AtSymlinkNofollow) != 0 {
		return -linux.EINVAL
	}
	return t.execve(int32(a[0]), a[1], a[2], a[3], a[4])
}

// Limits of execve (include/uapi/linux/binfmts.h, fs/exec.c).
const (
	maxArgStrings = 0x7fffffff
	// argMax is ARG_MAX (32 pages), the least room the arguments and
	// environment get, and maxArgBytes the most (_STK_LIM / 4 * 3);
	// between them a quarter of RLIMIT_STACK (fs/exec.c
	// bprm_stack_limits).
	argMax      = 32 * 4096
	maxArgBytes = 6 << 20
	// maxStack bounds the stack an execve maps for a large or unlimited
	// RLIMIT_STACK.
	maxStack = 1 << 30
	// maxArgStrlen is MAX_ARG_STRLEN (32 pages): the longest argument or
	// environment string, its NUL included (fs/exec.c copy_strings).
	maxArgStrlen = 32 * 4096
	maxInterp    = 4 // nested #! interpreters (fs/exec.c)
)

// execHead is how much of a program file execve reads to recognise a
// script: "#!" and a line of up to BINPRM_BUF_SIZE bytes
// (include/linux/binfmts.h) but one.
const execHead = 2 + 256

// execHeader returns the first bytes of a program file (all of a
// shorter file), or a negated errno if it cannot be read.
func execHeader(exe Executable) ([]byte, int64) {
	buf := make([]byte, min(exe.Size(), execHead))
	n, err := exe.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, errno(err)
	}
	return buf[:n], 0
}

// readStrings reads a NULL-terminated array of string pointers.
func readStrings(m mem.Memory, addr uint64, total *int, limit int) ([]string, int64) {
	var out []string
	if addr == 0 {
		return nil, 0
	}
	for i := uint64(0); ; i++ {
		ptr, err := mem.ReadUint64(m, addr+8*i)
		if err != nil {
			return nil, -linux.EFAULT
		}
		if ptr == 0 {
			return out, 0
		}
		s, err := mem.ReadString(m, ptr, maxArgStrlen)
		if err == mem.ErrNameTooLong || err == nil && len(s)+1 > maxArgStrlen {
			return nil, -linux.E2BIG
		}
		if err != nil {
			return nil, -linux.EFAULT
		}
		// Each string and its pointer count against the limit
		// (fs/exec.c bprm_stack_limits, copy_strings).
		*total += len(s) + 1 + 8
		if *total > limit {
			return nil, -linux.E2BIG
		}
		out = append(out, s)
	}
}

func (t *Task) execve(dirfd int32, pathAddr, argvAddr, envpAddr, flags uint64) int64 {
	p := t.p
	pf, ok := t.files.(ProcessFiles)
	if !ok || p.cfg.Load == nil {
		return p.unsupported("execve without a program loader", -linux.ENOSYS)
	}
	path, err := mem.ReadString(p.m, pathAddr, linux.PathMax)
	if err != nil {
		if err == mem.ErrNameTooLong {
			return -linux.ENAMETOOLONG
		}
		return -linux.EFAULT
	}
	// The program is opened before the arguments are read, as Linux's
	// alloc_bprm opens it first: a missing file is ENOENT even with
	// arguments past the limit.
	exe, found, e := pf.OpenExec(dirfd, path, uint32(flags))
	if e != 0 {
		return e
	}
	defer func() { exe.Close() }() // the mappings keep what they map
	// The new program's stack may grow to RLIMIT_STACK (its first
	// 128 KiB below the arguments are mapped, the rest on faults,
	// stackgrow.go), the arguments a quarter of it.
	stackSize := min(max(p.rlimit(3), 4*argMax), maxStack) &^ (mem.PageSize - 1)
	limit := int(min(max(stackSize/4, argMax), maxArgBytes))
	total := 0
	argv, e := readStrings(p.m, argvAddr, &total, limit)
	if e != 0 {
		return e
	}
	envp, e := readStrings(p.m, envpAddr, &total, limit)
	if e != 0 {
		return e
	}
	// The name the program gets as AT_EXECFN, and a script's interpreter
	// as its argument (fs/exec.c alloc_bprm): the path as given, or
	// /dev/fd/N/path for one relative to a directory descriptor
	// (/dev/fd/N for AT_EMPTY_PATH), which a script cannot use if N is
	// closed at exec (BINPRM_FLAGS_PATH_INACCESSIBLE).
	execFn := path
	hidden := false
	if dirfd != linux.AtFdcwd && !strings.HasPrefix(path, "/") {
		execFn = "/dev/fd/" + strconv.Itoa(int(dirfd))
		if path != "" {
			execFn += "/" + path
		}
		hidden = pf.CloseOnExec(dirfd)
	}
	scriptName := execFn
	// A program the caller may not read leaves it not dumpable, be it
	// the script or an interpreter (would_dump).
	unreadable := !exe.Readable()
	// A script: run its interpreter with the script's path in argv
	// (fs/binfmt_script.c).
	for depth := 0; ; depth++ {
		data, e := execHeader(exe)
		if e != 0 {
			return e
		}
		if !bytes.HasPrefix(data, []byte("#!")) {
			break
		}
		if depth == maxInterp {
			return -linux.ELOOP
		}
		if hidden {
			return -linux.ENOENT
		}
		line := data[2:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		} else if len(line) > 255 {
			return -linux.ENOEXEC
		}
		fields := strings.Fields(strings.TrimSpace(string(line)))
		if len(fields) == 0 {
			return -linux.ENOEXEC
		}
		interp := fields[0]
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(line)), interp))
		nargv := []string{interp}
		if rest != "" {
			nargv = append(nargv, rest)
		}
		nargv = append(nargv, scriptName)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv = nargv
		next, nfound, e := pf.OpenExec(linux.AtFdcwd, interp, 0)
		if e != 0 {
			return e
		}
		exe.Close()
		exe, found, scriptName = next, nfound, interp
		unreadable = unreadable || !exe.Readable()
	}
	file := NewProgramFile(exe)
	// The IDs stay as they are (no set-user-ID files); the exec is a
	// secure one when the effective IDs are not the real ones
	// (security/commoncap.c cap_bprm_creds_from_file: __is_setuid,
	// __is_setgid; a non-root real ID with effective root is one).
	p.mu.Lock()
	c := p.cred
	p.mu.Unlock()
	ids := ExecIDs{UID: c.ruid, EUID: c.euid, GID: c.rgid, EGID: c.egid, Secure: c.euid != c.ruid || c.egid != c.rgid}
	prog, err := p.cfg.Load(file, execFn, argv, envp, stackSize, ids)
	if err != nil {
		file.release()
		if err == ErrNoExec {
			return -linux.ENOEXEC
		}
		return errno(err)
	}
	// The point of no return (fs/exec.c begin_new_exec): the other
	// threads end, the old address space goes.
	p.killOtherThreads(t)
	p.takeOver(t)
	if c, ok := t.files.(tableCopier); ok && c.TableShared() && !t.tableCopyFits() {
		// begin_new_exec's unshare_files found no memory for a copy of
		// a table another process shares (CLONE_FILES): past the point
		// of no return, the exec ends the process with SIGSEGV
		// (bprm_execve: force_fatal_sig).
		file.release()
		FreeMachine(prog.Machine)
		t.kill(sigInfo{signo: linux.SigSegv, code: linux.SiKernel})
		return noReturn
	}
	t.futexRelease()     // kernel/fork.c exec_mm_release
	t.rseq = rseqState{} // rseq_execve
	p.exitTimers(false)
	t.execSched()
	p.detachShm()
	holdSpace(prog.Machine)
	p.dropMM() // a vfork parent keeps the old ranges
	p.mm = file.mm
	p.mm.exe = exe.Dup()
	old := p.m
	p.m = prog.Machine
	p.cfg.Machine = prog.Machine
	p.setCopyHooks()
	p.leaveSpace(old)
	dropSpace(old)
	p.mu.Lock()
	p.brkStart, p.brk = pageUp(prog.Brk), pageUp(prog.Brk)
	p.cred.exec()
	// fs/exec.c begin_new_exec: dumpable again unless the IDs differ
	// or a file of the program was unreadable.
	p.undumpable.Store(unreadable || p.cred.euid != p.cred.ruid || p.cred.egid != p.cred.rgid)
	p.mu.Unlock()
	p.execed.Store(true)
	p.mu.Lock()
	p.exe = found
	p.args = argv
	p.mu.Unlock()
	pf.Exec(exe, argv)
	// Handlers go back to the default; ignored signals stay ignored.
	p.sig.mu.Lock()
	for i := range p.sig.act {
		if p.sig.act[i].handler > sigIgn {
			p.sig.act[i] = sigAction{}
		}
	}
	p.sig.mu.Unlock()
	t.altStack = stack{}
	t.clearTID = 0
	t.robustList.Store(0)
	t.setName(nameOf(found))
	p.mu.Lock()
	p.commName = t.name // the process's name even if t is not its first thread
	p.mu.Unlock()
	r := kernel.NewUserRegs()
	r.Frame.RIP, r.Frame.RSP = prog.Entry, prog.SP
	p.mm.stackSP.Store(prog.SP)
	p.setProgram(prog, t.persona.Load()&addrCompatLayout != 0)
	t.regs.Release()
	t.regs = r
	if p.vforkDone != nil {
		p.closeVfork()
	}
	return noReturn
}

// takeOver makes t, the process's only thread left at an execve, its
// first (fs/exec.c de_thread): a thread that was not takes the process's
// ID as its own, and its files (its descriptor table and working
// directory, which begin_new_exec keeps) become the process's.
func (p *Process) takeOver(t *Task) {
	if t.tid == p.pid {
		return
	}
	p.w.mu.Lock()
	// The children it made are still its (their parent is the task,
	// whose ID de_thread changes): their PR_SET_PDEATHSIG follows it.
	for _, c := range p.children {
		if c.parentTid == t.tid {
			c.parentTid = p.pid
		}
	}
	p.mu.Lock()
	delete(p.tasks, t.tid)
	t.tid = p.pid
	p.tasks[p.pid] = t
	p.files = t.files
	p.mu.Unlock()
	p.w.mu.Unlock()
	if s, ok := t.files.(interface{ SetTid(int32) }); ok {
		s.SetTid(p.pid)
	}
}

// killOtherThreads ends every thread of the process but t (execve) and
// waits until they are gone: woken as each one leaves (removeTask).
func (p *Process) killOtherThreads(t *Task) {
	for {
		p.mu.Lock()
		n := 0
		for _, o := range p.tasks {
			if o != t {
				o.zapped.Store(true)
				o.interrupt()
				n++
			}
		}
		if n == 0 {
			p.mu.Unlock()
			return
		}
		if p.taskGone == nil {
			p.taskGone = make(chan struct{})
		}
		ch := p.taskGone
		p.mu.Unlock()
		<-ch
	}
}

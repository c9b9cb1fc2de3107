package north

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Config describes the application to run.
type Config struct {
	// Machine provides the address space and user mode.
	Machine Machine
	// Trace, if set, receives a line per system call with its result.
	Trace io.Writer
	// Log receives the kernel's reports about the application (killed by
	// a signal, unimplemented calls). Default os.Stdout.
	Log io.Writer
	// Random fills a buffer from the platform's entropy source.
	Random func([]byte)
	// RAM is reported by sysinfo.
	RAM uint64
	// FreeRAM, if set, returns the free memory sysinfo reports (the
	// kernel's free page frames).
	FreeRAM func() uint64
	// Overcommit is the overcommit policy, vm.overcommit_memory:
	// OvercommitGuess (the default) or OvercommitAlways.
	Overcommit int
	// Load loads a program for execve into a new address space: the
	// file (whose MapPrivate maps its segments), the path it was asked
	// by (AT_EXECFN), argv and envp, with a stack of stack bytes (0:
	// the loader's default), and the credentials it runs with (ids). It
	// returns ErrNoExec for a file it cannot run. Nil: execve gives
	// ENOSYS.
	Load func(f *ProgramFile, path string, argv, envp []string, stack uint64, ids ExecIDs) (Program, error)
}

// ExecIDs are what the auxiliary vector tells a new program of its
// credentials (fs/binfmt_elf.c create_elf_tables): AT_UID, AT_EUID,
// AT_GID and AT_EGID, and AT_SECURE (bprm->secureexec).
type ExecIDs struct {
	UID, EUID, GID, EGID uint32
	Secure               bool
}

// Process is one process of the application: an address space, its
// threads, descriptor table, credentials, signal dispositions and
// futexes (see sys_proc.go).
type Process struct {
	cfg Config
	m   Machine
	w   *world
	pid int32

	// The process tree (guarded by w.mu): the parent, the children (live
	// and zombie), whether the process has exited and its wait status
	// (wait(2): code<<8, or the signal that killed it).
	parent     *Process
	children   map[int32]*Process
	zombie     bool
	waitStatus int
	// exitSig is sent to the parent at exit (clone's low byte; SIGCHLD
	// for fork, and once reparented).
	exitSig atomic.Int32
	// subreaper is PR_SET_CHILD_SUBREAPER's flag: orphaned descendants
	// come to it rather than to init.
	subreaper atomic.Bool
	pgid, sid atomic.Int32
	// ended is closed when the process has become a zombie (pidfds poll
	// readable); endWatch then tells its pidfds' pollers.
	ended    chan struct{}
	endWatch endWatch
	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}
	vforkOnce sync.Once
	execed    atomic.Bool // the process has called execve
	// exe and args are the program and its argv (guarded by mu once
	// the process runs; read for /proc).
	exe  string
	args []string
	// commName is the main thread's name, the process's in /proc
	// (guarded by mu).
	commName [16]byte
	// startMono is when the process was made (CLOCK_MONOTONIC, ns).
	startMono int64
	// filesGone is set when the process has released its files and
	// memory (it exited).
	filesGone atomic.Bool
	// stop is its job-control stop (jobctl.go).
	stop stopState
	// noCtty is set when it gave up the console as controlling terminal
	// (TIOCNOTTY) without leaving its session.
	noCtty atomic.Bool
	// parentTid is the thread of the parent that made it: its exit
	// sends PR_SET_PDEATHSIG's signal.
	parentTid int32
	// CPU time of reaped children, in nanoseconds.
	cutime, cstime atomic.Int64

	mu    sync.Mutex
	tasks map[int32]*Task
	// taskGone, if not nil, is closed when a thread leaves (guarded by
	// mu; execve waits on it).
	taskGone chan struct{}
	// exLeader is the main thread once it has exited (guarded by mu):
	// /proc keeps showing it, a zombie, until the process is reaped
	// (procfs.go procTask), as Linux keeps an exited group leader.
	exLeader *Task

	// mm is the file-backed part of the address space (mm.go), shared
	// with the processes sharing the address space.
	mm *mmState
	// shmAttach is its System V shared memory attachments, by address
	// (sys_shm.go; guarded by w.shm.mu).
	shmAttach map[uint64]*shmSegment

	// Program break and resource limits (guarded by mu).
	brkStart, brk uint64
	rlimits       map[uint64][2]uint64

	// Credentials (guarded by mu): the application starts as root.
	cred     creds
	keepCaps atomic.Bool
	// undumpable is the process's "dumpable" flag cleared (prctl
	// PR_GET_DUMPABLE 0): its credentials changed, so its /proc/PID
	// files are root's (fs/proc/base.c task_dump_owner).
	undumpable atomic.Bool

	sig sigState
	// oom is its oom_score_adj (oom.go).
	oom oomAdj

	// futex is the guest's futex table (the world's).
	futex *futexTable

	// files are its first thread's descriptor table and file system
	// context (Task.files), what /proc/PID shows.
	files Files

	done       chan struct{}
	dead       atomic.Bool // done is closed
	exitOnce   sync.Once
	exitStatus int

	syscalls  atomic.Int64
	startTime time.Time

	// CPU time of all threads, live and gone, in nanoseconds, and the
	// counters getrusage reports (sys_time.go).
	utime, stime            atomic.Int64
	nsignals, nvcsw, nivcsw atomic.Int64
	io                      ioAcct // its threads' reads and writes and its reaped children's (procio.go)
	// maxrss is the high-water mark of resident pages of the address
	// spaces the process left (rss.go); cmaxrss its reaped children's.
	maxrss, cmaxrss atomic.Uint64
	// cpu are the timers on CPU-time clocks.
	cpu cpuTimers
	// itMu guards the interval timers and POSIX timers.
	itMu      sync.Mutex
	itimers   [3]*clock.Timer
	timers    map[int32]*posixTimer
	nextTimer int32
	// membarrier is the address space's membarrier(2) registrations
	// (sys_system.go).
	membarrier atomic.Uint32
}

// Files is the file side of the personality (north/fdtable implements
// it): system calls on descriptors and paths, in the Linux return
// convention. Nil means every file call fails with ENOSYS.
type Files interface {
	// Syscall serves file system call nr for task t if it is one;
	// handled is false for calls it does not know.
	Syscall(t FileContext, nr uint64, args [6]uint64) (result int64, handled bool)
	// Pread reads from descriptor fd at off into a kernel buffer (for
	// a private mmap in an address space without pages to share: the host
	// tests' fakes), in the same return convention.
	Pread(fd int32, buf []byte, off uint64) int64
	// Map returns a mapping of the pages of the file open as fd whose
	// pages leaving the file are reported to inv, and the file's access
	// mode, or a negated errno (ENODEV: no pages to map).
	Map(fd int32, inv func(from, to int64)) (mem.Pager, uint32, int64)
	// MapsAnonymous reports whether mapping fd gives fresh anonymous
	// memory rather than the file's pages (/dev/zero).
	MapsAnonymous(fd int32) bool
	// MapAnon returns a mapping of a new unnamed file of size bytes
	// (shared anonymous memory).
	MapAnon(size int64, inv func(from, to int64)) (mem.Pager, error)
}

// FileContext is what a file system call may use of the calling task.
type FileContext interface {
	Memory() Machine
	// Interrupted is closed when a signal should interrupt a blocking call.
	Interrupted() <-chan struct{}
	// Capable reports whether the calling process holds capability n
	// (CapSysAdmin, ...) in its effective set.
	Capable(n uint) bool
	// TimerSlack is the thread's timer slack (prctl PR_SET_TIMERSLACK):
	// poll, select and epoll_wait timeouts may end that late, or more.
	TimerSlack() time.Duration
}

// NewProcess makes the first process, pid 1, with no threads yet.
func NewProcess(cfg Config) *Process {
	if cfg.Log == nil {
		cfg.Log = os.Stdout
	}
	if cfg.Random == nil {
		panic("north: Config.Random is required")
	}
	w := &world{procs: map[int32]*Process{}, nextID: 2, lastID: 1, changed: make(chan struct{})}
	w.tty.sid.Store(1) // the console is pid 1's terminal (jobctl.go)
	w.tty.fg.Store(1)
	p := &Process{
		cfg:       cfg,
		m:         cfg.Machine,
		w:         w,
		pid:       1,
		tasks:     map[int32]*Task{},
		done:      make(chan struct{}),
		ended:     make(chan struct{}),
		startTime: time.Now(),
		startMono: monotonic(),
		exe:       "/init",
		commName:  nameOf("/init"),
	}
	p.mm = &mmState{users: 1}
	p.pgid.Store(1)
	p.sid.Store(1)
	w.procs[1] = p
	w.init = p
	holdSpace(cfg.Machine)
	w.futex.init()
	p.futex = &w.futex
	p.sig.init()
	p.setCopyHooks()
	return p
}

// SetFiles installs the file layer: the files of the process's first
// thread.
func (p *Process) SetFiles(f Files) {
	p.files = f
	p.mu.Lock()
	for _, t := range p.tasks {
		if t.files == nil {
			t.files = f
		}
	}
	p.mu.Unlock()
	p.ownFiles()
}

// ownFiles tells the process's files whose credentials their permission
// checks use: the process's (FileCred).
func (p *Process) ownFiles() {
	if s, ok := p.files.(interface{ SetOwner(*Process) }); ok {
		s.SetOwner(p)
	}
}

// FileCred returns the credentials file permissions are checked against
// (include/linux/cred.h: fsuid, fsgid, group_info, cap_effective); with
// real, those access(2) uses (fs/open.c access_override_creds: the real
// IDs, with the permitted capabilities for a real root and none for
// others).
func (p *Process) FileCred(real bool) (uid, gid uint32, groups []uint32, caps uint64) {
	p.mu.Lock()
	c := p.cred
	p.mu.Unlock()
	if real {
		if c.ruid == 0 {
			caps = c.permitted()
		}
		return c.ruid, c.rgid, c.groups, caps
	}
	return c.fsuid, c.fsgid, c.groups, c.effective()
}

// SetBrk sets the initial program break (the end of the loaded program).
func (p *Process) SetBrk(addr uint64) {
	addr = pageUp(addr)
	p.brkStart, p.brk = addr, addr
}

// Start starts the first thread at entry with stack pointer sp.
func (p *Process) Start(entry, sp uint64) {
	r := kernel.NewUserRegs()
	r.Frame.RIP = entry
	r.Frame.RSP = sp
	p.mm.stackSP.Store(sp)
	t := p.newTaskID(r, p.pid)
	t.setName(nameOf(p.exe))
	go t.loop()
}

// SetArgs records the first program's path and argv (/proc/PID/cmdline).
func (p *Process) SetArgs(exe string, argv []string) {
	p.mu.Lock()
	p.exe, p.args, p.commName = exe, argv, nameOf(exe)
	p.mu.Unlock()
}

// Wait blocks until the process exits and returns its exit status (0-255;
// 128+n when killed by signal n).
func (p *Process) Wait() int {
	<-p.done
	return p.exitStatus
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// exit ends the process with status (exit_group).
func (p *Process) exit(status int) { p.exitWith(status, status<<8) }

// exitWith ends the process with the status pid 1's end powers the guest
// off with (0-255, 128+n for signal n) and the wait status.
func (p *Process) exitWith(status, waitStatus int) {
	p.exitOnce.Do(func() {
		p.exitStatus = status
		p.w.mu.Lock()
		p.waitStatus = waitStatus
		p.w.mu.Unlock()
		// dead is set before the threads are interrupted: a thread that
		// takes its wake-up token must then see the process exiting, or
		// it could consume the token (deliverSignals drains it) just
		// before dead is set and block again in a futex or a read with
		// nothing left to wake it (an exit_group'd Go child never ended).
		p.dead.Store(true)
		p.mu.Lock()
		for _, t := range p.tasks {
			t.interrupt()
		}
		p.mu.Unlock()
		close(p.done)
	})
}

func (p *Process) exiting() bool { return p.dead.Load() }

// newTask makes a thread with a new thread ID (the process's ID for its
// first).
func (p *Process) newTask(r *kernel.UserRegs) *Task { return p.newTaskFiles(r, p.files) }

// newTaskFiles is newTask for a thread with files of its own.
func (p *Process) newTaskFiles(r *kernel.UserRegs, files Files) *Task {
	if p.threadCount() == 0 {
		return p.newTaskID(r, p.pid) // the main thread
	}
	p.w.mu.Lock()
	tid := p.w.allocID()
	t := p.newTaskIDFiles(r, tid, files)
	p.w.mu.Unlock()
	return t
}

func (p *Process) newTaskID(r *kernel.UserRegs, tid int32) *Task {
	return p.newTaskIDFiles(r, tid, p.files)
}

func (p *Process) newTaskIDFiles(r *kernel.UserRegs, tid int32, files Files) *Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := &Task{p: p, tid: tid, regs: r, wake: make(chan struct{}, 1), files: files}
	t.timerSlack.Store(defaultTimerSlack)
	t.defaultSlack.Store(defaultTimerSlack)
	t.slot = kernel.AppThreadStart(t.tid)
	p.tasks[t.tid] = t
	return t
}

// removeTask forgets t and reports whether it was the last thread.
func (p *Process) removeTask(t *Task) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.tasks[t.tid]; ok {
		kernel.AppThreadEnd(t.slot)
	}
	delete(p.tasks, t.tid)
	if t.tid == p.pid {
		p.exLeader = t
	}
	if p.taskGone != nil {
		close(p.taskGone)
		p.taskGone = nil
	}
	return len(p.tasks) == 0
}

func (p *Process) task(tid int32) *Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tasks[tid]
}

// Unimplemented returns how often each unimplemented system call was
// made (the numbers beyond the first maxUnknownNumbers together, as
// otherUnknown), and each refused use of an implemented one (an operation
// or flag Cocoon does not support), by name.
func (p *Process) Unimplemented() map[string]int64 {
	out := map[string]int64{}
	p.w.unknown.Range(func(k, v any) bool {
		nr := k.(uint64)
		name := linux.SyscallName(nr)
		if name == "" {
			name = fmt.Sprintf("syscall_%d", nr)
		}
		out[name] = v.(*atomic.Int64).Load()
		return true
	})
	if n := p.w.unknownOther.Load(); n > 0 {
		out[otherUnknown] = n
	}
	p.w.refused.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Syscalls returns how many system calls the application made.
func (p *Process) Syscalls() int64 { return p.syscalls.Load() }

func pageUp(a uint64) uint64 { return (a + 4095) &^ 4095 }

// StartTime returns when the process was made (fork or the first
// process's start), by the wall clock: the times of its /proc files.
func (p *Process) StartTime() time.Time { return p.startTime }

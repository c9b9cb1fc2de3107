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
}

// Process is the running application: one address space, its threads,
// signal dispositions and futexes.
type Process struct {
	cfg Config
	m   Machine

	mu      sync.Mutex
	tasks   map[int32]*Task
	nextTid int32

	// mm is the file-backed part of the address space (mm.go).
	mm mmState
	// shm is the System V shared memory (sys_shm.go).
	shm shmState

	// Program break and resource limits (guarded by mu).
	brkStart, brk uint64
	rlimits       map[uint64][2]uint64

	// Credentials (guarded by mu): the application starts as root.
	cred     creds
	keepCaps atomic.Bool

	sig sigState

	futex futexTable

	// files is the file-descriptor table and file system.
	files Files

	done       chan struct{}
	dead       atomic.Bool // done is closed
	exitOnce   sync.Once
	exitStatus int

	unknown   sync.Map // syscall number -> *atomic.Int64
	refused   sync.Map // unsupported use (see unsupported) -> *atomic.Int64
	syscalls  atomic.Int64
	startTime time.Time

	// CPU time of all threads, live and gone, in nanoseconds, and the
	// counters getrusage reports (sys_time.go).
	utime, stime            atomic.Int64
	nsignals, nvcsw, nivcsw atomic.Int64
	// cpu are the timers on CPU-time clocks.
	cpu cpuTimers
	// itMu guards the interval timers and POSIX timers.
	itMu      sync.Mutex
	itimers   [3]*clock.Timer
	timers    map[int32]*posixTimer
	nextTimer int32
}

// Files is the file side of the personality (north/fdtable implements
// it): system calls on descriptors and paths, in the Linux return
// convention. Nil means every file call fails with ENOSYS.
type Files interface {
	// Syscall serves file system call nr for task t if it is one;
	// handled is false for calls it does not know.
	Syscall(t FileContext, nr uint64, args [6]uint64) (result int64, handled bool)
	// Pread reads from descriptor fd at off into a kernel buffer (for
	// mmap of a file without pages to share), in the same return
	// convention.
	Pread(fd int32, buf []byte, off uint64) int64
	// Map returns a mapping of the pages of the file open as fd whose
	// pages leaving the file are reported to inv, and the file's access
	// mode, or a negated errno (ENODEV: no pages to map).
	Map(fd int32, inv func(from, to int64)) (mem.Pager, uint32, int64)
	// MapAnon returns a mapping of a new unnamed file of size bytes
	// (shared anonymous memory).
	MapAnon(size int64, inv func(from, to int64)) (mem.Pager, error)
}

// FileContext is what a file system call may use of the calling task.
type FileContext interface {
	Memory() Machine
	// Interrupted is closed when a signal should interrupt a blocking call.
	Interrupted() <-chan struct{}
}

// NewProcess makes a process with no threads yet.
func NewProcess(cfg Config) *Process {
	if cfg.Log == nil {
		cfg.Log = os.Stdout
	}
	if cfg.Random == nil {
		panic("north: Config.Random is required")
	}
	p := &Process{
		cfg:       cfg,
		m:         cfg.Machine,
		tasks:     map[int32]*Task{},
		nextTid:   1,
		done:      make(chan struct{}),
		startTime: time.Now(),
	}
	p.futex.init()
	p.sig.init()
	if ps, ok := p.m.(pagedSpace); ok {
		ps.SetFiller(p.fillForCopy)
	}
	return p
}

// SetFiles installs the file layer.
func (p *Process) SetFiles(f Files) { p.files = f }

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
	t := p.newTask(r)
	go t.loop()
}

// Wait blocks until the process exits and returns its exit status (0-255;
// 128+n when killed by signal n).
func (p *Process) Wait() int {
	<-p.done
	return p.exitStatus
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// exit ends the process with status (exit_group, or a fatal signal).
func (p *Process) exit(status int) {
	p.exitOnce.Do(func() {
		p.exitStatus = status
		p.mu.Lock()
		for _, t := range p.tasks {
			t.interrupt()
		}
		p.mu.Unlock()
		p.dead.Store(true)
		close(p.done)
	})
}

func (p *Process) exiting() bool { return p.dead.Load() }

func (p *Process) newTask(r *kernel.UserRegs) *Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := &Task{p: p, tid: p.nextTid, regs: r, wake: make(chan struct{}, 1)}
	t.slot = kernel.AppThreadStart(t.tid)
	p.nextTid++
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
	return len(p.tasks) == 0
}

func (p *Process) task(tid int32) *Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tasks[tid]
}

// Unimplemented returns how often each unimplemented system call was
// made, and each refused use of an implemented one (an operation or flag
// Cocoon does not support), by name.
func (p *Process) Unimplemented() map[string]int64 {
	out := map[string]int64{}
	p.unknown.Range(func(k, v any) bool {
		nr := k.(uint64)
		name := linux.SyscallName(nr)
		if name == "" {
			name = fmt.Sprintf("syscall_%d", nr)
		}
		out[name] = v.(*atomic.Int64).Load()
		return true
	})
	p.refused.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Syscalls returns how many system calls the application made.
func (p *Process) Syscalls() int64 { return p.syscalls.Load() }

func pageUp(a uint64) uint64 { return (a + 4095) &^ 4095 }

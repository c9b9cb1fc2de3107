package run

import (
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north"
	"github.com/cocoon-vm/cocoon/north/fdtable"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/sevguest"
	"github.com/cocoon-vm/cocoon/north/vfs"
	"github.com/cocoon-vm/cocoon/north/vtl0"
)

// files joins the file system (north/vfs) and the descriptor table
// (north/fdtable) to the personality's core.
type files struct {
	fs *vfs.FS
	f  *fdtable.Files
}

// newFiles mounts the initrd at / (read-only, with a writable overlay)
// beside /tmp, /dev and /proc, with the console (or o.Stdio) on
// descriptors 0-2, and gives the process its network (wireNetwork: a
// TCP/IP stack, or none in a kernel built without one).
func newFiles(archive []byte, o Options) (*files, error) {
	opts := vfs.Options{
		ConsoleIn:  o.Stdin,
		ConsoleOut: o.Stdout,
		Stdio:      o.Stdio,
		Random:     random,
		// File data lives in the kernel's frames, which mappings share;
		// tmpfs may hold half of RAM, as Linux's default size= does.
		Frames:      north.KernelFrames{},
		MemoryLimit: int64(kernel.Stats().RAM / 2),
		// And as many files as half of RAM's pages (nr_inodes' default),
		// whose inodes live in the kernel's own memory.
		MaxInodes: int64(kernel.Stats().RAM / 8192),
	}
	var tsc tscConfirmer
	if dev := sevGuest(o.Stdout); dev != nil {
		opts.Devices = map[string]func() vfs.FileImpl{sevguest.Name: dev.Open}
		tsc = dev
	}
	if err := checkClock(o.Stdout, tsc); err != nil {
		return nil, err
	}
	if sk, ok := kernel.Platform().(hal.SecureKernel); ok {
		// A secure kernel's application serves the lower VTL: /dev/vtl0.
		if opts.Devices == nil {
			opts.Devices = map[string]func() vfs.FileImpl{}
		}
		opts.Devices[vtl0.Name] = vtl0.New(sk.AppChannel()).Open
	}
	fs, err := vfs.New(archive, opts)
	if err != nil {
		return nil, fmt.Errorf("mounting the initrd: %v", err)
	}
	out := &files{fs: fs, f: fdtable.New(fs, "/init")}
	out.wireNetwork(o)
	out.writeAccounts(o)
	north.SetSignalQueuedHook(vfs.NotifySignals) // signalfds wait for signals
	return out, nil
}

func (f *files) Syscall(t north.FileContext, nr uint64, a [6]uint64) (int64, bool) {
	if fdtable.IsXattrSyscall(nr) { // only these ask for the caller's privilege
		r, _ := f.f.XattrSyscall(t.Memory(), t.Capable(north.CapSysAdmin), nr, a)
		return r, true
	}
	if fdtable.ReadsSignals(nr) {
		if s, ok := t.(vfs.SignalTaker); ok {
			f.f.SetSignals(s)
		}
	}
	return f.f.SyscallSlack(t.Memory(), t.Interrupted(), t.TimerSlack(), nr, a)
}

func (f *files) Pread(fd int32, buf []byte, off uint64) int64 { return f.f.Pread(fd, buf, off) }

func (f *files) Map(fd int32, inv func(from, to int64)) (mem.Pager, uint32, int64) {
	return f.f.Map(fd, inv)
}

func (f *files) MapsAnonymous(fd int32) bool { return f.f.MapsAnonymous(fd) }

func (f *files) MapAnon(size int64, inv func(from, to int64)) (mem.Pager, error) {
	return f.f.MapAnon(size, inv)
}

// SetFileLimit applies RLIMIT_NOFILE's soft limit to the process's
// descriptor tables.
func (f *files) SetFileLimit(n uint64) error {
	if n > 1<<31 {
		n = 1 << 31
	}
	return f.f.SetLimit(int(n))
}

// Clone implements north.ProcessFiles.
func (f *files) Clone(shareFiles, shareFS, thread bool) north.Files {
	return &files{fs: f.fs, f: f.f.Clone(shareFiles, shareFS, thread)}
}

// Unshare implements north.ProcessFiles.
func (f *files) Unshare(files, fsCtx bool) { f.f.Unshare(files, fsCtx) }

// Exec implements north.ProcessFiles.
func (f *files) Exec(exe north.Executable, argv []string) {
	if e, ok := exe.(execFile); ok {
		f.f.Exec(e.f)
	}
	f.f.SetCmdline(argv)
}

// KcmpIDs, FileID and IsEpoll serve kcmp(2).
func (f *files) KcmpIDs() (table, fs uintptr)    { return f.f.KcmpIDs() }
func (f *files) FileID(fd int32) (uintptr, bool) { return f.f.FileID(fd) }
func (f *files) IsEpoll(fd int32) bool           { return f.f.IsEpoll(fd) }

// TableBytes is what a copy of the task's descriptor table takes.
func (f *files) TableBytes() int64 { return f.f.TableBytes() }

// TableShared reports whether other tasks use the task's table.
func (f *files) TableShared() bool { return f.f.TableShared() }

// Release implements north.ProcessFiles.
func (f *files) Release() { f.f.Release() }

// FDSize is the room of the descriptor table (/proc/PID/status FDSize,
// Linux's max_fds).
func (f *files) FDSize() int { return f.f.Table().Size() }

// Umask is the file mode creation mask (/proc/PID/status Umask).
func (f *files) Umask() uint32 { return f.f.CurrentUmask() }

// OpenExec implements north.ProcessFiles: the program must be a regular
// file with an execute bit (EACCES otherwise, as execve(2) says).
func (f *files) OpenExec(dirfd int32, path string, flags uint32) (north.Executable, string, int64) {
	file, name, err := f.f.OpenExec(dirfd, path, flags)
	if err != nil {
		return nil, "", -int64(vfs.ErrnoOf(err))
	}
	st := file.Stat()
	const sIFMT, sIFREG = 0o170000, 0o100000
	if st.Mode&sIFMT != sIFREG {
		file.DecRef()
		return nil, "", -linux.EACCES
	}
	abs := path
	if len(abs) == 0 || abs[0] != '/' {
		abs = name
	}
	return execFile{file, vfs.MayRead(f.f, file.Loc()) == nil}, abs, 0
}

// CloseOnExec implements north.ProcessFiles.
func (f *files) CloseOnExec(fd int32) bool {
	on, err := f.f.Table().Cloexec(fd)
	return err == nil && on
}

// execFile is a program file open for execve, and whether its opener may
// read it.
type execFile struct {
	f        *vfs.File
	readable bool
}

func (e execFile) Readable() bool { return e.readable }

// ReadAt implements io.ReaderAt.
func (e execFile) ReadAt(b []byte, off int64) (int, error) {
	n, err := e.f.ReadAt(vfs.BytesBuf(b), off)
	if err == nil && int(n) < len(b) {
		err = io.EOF
	}
	return int(n), err
}

func (e execFile) Size() int64 { return e.f.Stat().Size }

func (e execFile) Map(inv func(from, to int64)) (mem.Pager, error) {
	m, err := e.f.Map(inv)
	if err == vfs.ENODEV {
		return nil, north.ErrNotMappable
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (e execFile) Close() { e.f.DecRef() }

// Dup implements north.Executable.
func (e execFile) Dup() north.Executable {
	e.f.IncRef()
	return e
}

// SetOwner tells the descriptor table whose credentials its permission
// checks use.
func (f *files) SetOwner(p *north.Process) { f.f.SetCred(p) }

// SetPid tells the descriptor table its process's ID (/proc/self).
func (f *files) SetPid(pid int32) { f.f.SetPid(pid) }

// SetTid tells the task's files its ID (/proc/thread-self).
func (f *files) SetTid(tid int32) { f.f.SetTid(tid) }

// ConsoleLflag implements the personality's job-control question: is fd
// the console, and its c_lflag.
func (f *files) ConsoleLflag(fd int32) (uint32, bool) { return f.f.ConsoleLflag(fd) }

// procTable shows the guest's processes in /proc.
type procTable struct{ p *north.Process }

func (t procTable) PIDs() []int32 { return t.p.PIDs() }

// Memory implements vfs.MemoryInfo: what sysinfo(2) reports.
func (t procTable) Memory() (total, free uint64) { return t.p.Memory() }

// Uptime implements vfs.UptimeInfo: the kernel's clock since boot, which
// CLOCK_BOOTTIME reads (no suspend: the monotonic clock), and the time
// its idle thread ran.
func (t procTable) Uptime() (up, idle int64) {
	s := kernel.Stats()
	return s.Uptime, s.Idle
}

// LoadAverage implements vfs.LoadInfo.
func (t procTable) LoadAverage(tid int32) (avg [3]uint64, running, threads int, last int32) {
	return t.p.LoadAverage(tid)
}

// CPUStat implements vfs.StatInfo. The one CPU was halted (idle), in
// the application, or in the kernel: system time is the rest, at least
// what the application's system calls took.
func (t procTable) CPUStat(tid int32) vfs.CPUStat {
	k := kernel.Stats()
	user, sys, forks, running := t.p.Activity(tid)
	return vfs.CPUStat{
		User:       user,
		System:     max(k.Uptime-k.Idle-user, sys),
		Idle:       k.Idle,
		Interrupts: k.Interrupts,
		Switches:   k.Switches,
		Boot:       bootWall(k.Uptime),
		Forks:      forks,
		Running:    running,
	}
}

// bootWall is when the machine booted by the wall clock, in seconds
// since the epoch, given the time since boot: fixed at its first reading
// (Linux's getboottime64).
func bootWall(uptime int64) int64 {
	bootOnce.Do(func() { bootSec = (time.Now().UnixNano() - uptime) / 1e9 })
	return bootSec
}

var (
	bootOnce sync.Once
	bootSec  int64
)

// Proc returns process pid, or, as Linux's /proc/TID, a thread whose
// ID is not a process's.
func (t procTable) Proc(pid int32) vfs.ProcInfo {
	q := t.p.Lookup(pid)
	if q == nil {
		if q = t.p.LookupThread(pid); q == nil {
			return nil
		}
		return procInfo{q, pid}
	}
	return procInfo{q, 0}
}

// procInfo is a process (tid 0) or one of its threads in /proc.
type procInfo struct {
	p   *north.Process
	tid int32
}

func (i procInfo) Files() vfs.Process {
	if f, ok := i.p.TaskFiles(i.tid).(*files); ok {
		return f.f
	}
	return nil
}

func (i procInfo) Text(name string) ([]byte, error) {
	b, err := i.p.ProcText(i.tid, name)
	switch {
	case err == north.ErrProcExited:
		return nil, vfs.ESRCH
	case err != nil:
		return nil, vfs.ENOENT
	}
	return b, nil
}

// Records implements vfs.ProcRecords.
func (i procInfo) Records(name string) (func(int) []byte, bool, error) {
	next, ok, err := i.p.ProcRecords(i.tid, name)
	if err != nil {
		return nil, ok, vfs.ENOENT
	}
	return next, ok, nil
}

func (i procInfo) Tasks() []int32 { return i.p.Threads() }

func (i procInfo) Owner() (uid, gid uint32) { return i.p.ProcOwner() }

// Started is when the process started, in nanoseconds since the epoch:
// the times of its /proc files.
func (i procInfo) Started() int64 { return i.p.StartTime().UnixNano() }

func (i procInfo) SetComm(from mem.Memory, name []byte) error {
	if e := i.p.SetComm(i.tid, from, name); e != 0 {
		return vfs.Errno(e)
	}
	return nil
}

func (i procInfo) SetTimerSlack(ns uint64) error {
	if e := i.p.SetTimerSlack(i.tid, ns); e != 0 {
		return vfs.Errno(e)
	}
	return nil
}

func (i procInfo) SetOOMScoreAdj(v int64, legacy, privileged bool) error {
	if e := i.p.SetOOMScoreAdj(v, legacy, privileged); e != 0 {
		return vfs.Errno(e)
	}
	return nil
}

func (i procInfo) Task(tid int32) vfs.ProcInfo {
	if !i.p.HasThread(tid) {
		return nil
	}
	return procInfo{i.p, tid}
}

func (i procInfo) OpenMem(caller int32, fsuid, fsgid uint32, caps uint64) (vfs.MemAccess, error) {
	f, err := i.p.OpenMem(i.tid, caller, fsuid, fsgid, caps)
	if e, ok := err.(syscall.Errno); ok {
		return nil, vfs.Errno(e)
	}
	return memAccess{f}, nil
}

// memAccess is an open /proc/PID/mem with vfs's errors.
type memAccess struct{ f *north.MemFile }

func (m memAccess) Access(b []byte, addr uint64, write bool) (int, error) {
	n, err := m.f.Access(b, addr, write)
	if e, ok := err.(syscall.Errno); ok {
		return n, vfs.Errno(e)
	}
	return n, nil
}

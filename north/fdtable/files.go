package fdtable

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Files is one task's view of the file system, as Linux's task_struct
// points at a files_struct and an fs_struct: the descriptor table and the
// file-system context (working directory and umask) the task uses, each
// of which other tasks may share (clone's CLONE_FILES and CLONE_FS), and
// what the threads of its process share (its ID, credentials, program,
// arguments and descriptor limit). Its methods are the system calls of
// the task; they are safe for concurrent use, as other tasks sharing the
// table or context make calls of their own. Methods that may block take
// the calling thread's interrupt channel and return -EINTR when it is
// closed (the caller decides about restarting).
type Files struct {
	fs   *vfs.FS
	proc *procFiles
	// table and ctx are the task's (Table, fsContext): set by Clone,
	// replaced by Unshare and Exec, which only the task itself calls;
	// others (/proc) read them.
	table atomic.Pointer[Table]
	ctx   atomic.Pointer[fsContext]
	tid   atomic.Int32 // the task's ID (/proc/thread-self), 0 unless SetTid
	// signals are the calling thread's, for signalfds (SetSignals; set
	// and used by the task only).
	signals vfs.SignalTaker
}

// procFiles is what the threads of a process share.
type procFiles struct {
	sock  *sockets
	pid   atomic.Int32 // the process's ID, /proc/self (1 unless SetPid)
	cred  atomic.Pointer[vfs.CredSource]
	limit atomic.Int64 // RLIMIT_NOFILE's soft limit: descriptors stay below it

	mu    sync.Mutex // guards the fields below
	sigio IOSignaler // O_ASYNC's signals (sys_async.go)
	exe   vfs.Loc    // the program's file
	exeAt string     // and its path
	args  []string
}

// fsContext is Linux's fs_struct: a working directory and umask, shared
// by the tasks made with CLONE_FS.
type fsContext struct {
	users atomic.Int32 // the Files using it
	mu    sync.Mutex
	cwd   vfs.Loc
	umask uint32
}

// copy returns a private copy of c (kernel/fork.c copy_fs, unshare_fs).
func (c *fsContext) copy() *fsContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := &fsContext{cwd: c.cwd, umask: c.umask}
	n.users.Store(1)
	return n
}

// tab returns the task's descriptor table.
func (fs *Files) tab() *Table { return fs.table.Load() }

// fsc returns the task's file-system context.
func (fs *Files) fsc() *fsContext { return fs.ctx.Load() }

// SetCmdline records the program's arguments, which /proc/self/cmdline
// shows (execve sets them on Linux).
func (fs *Files) SetCmdline(args []string) {
	fs.proc.mu.Lock()
	fs.proc.args = append([]string(nil), args...)
	fs.proc.mu.Unlock()
}

// Cmdline returns the arguments SetCmdline recorded.
func (fs *Files) Cmdline() []string {
	fs.proc.mu.Lock()
	defer fs.proc.mu.Unlock()
	return fs.proc.args
}

// New returns the files of a new process on fs, running the program at
// path exe (the file /proc/self/exe leads to), with the console (or the
// streams of vfs.Options.Stdio) open as descriptors 0, 1 and 2, the root
// as working directory, and umask 022.
func New(fs *vfs.FS, exe string) *Files {
	f := &Files{fs: fs, proc: &procFiles{sock: &sockets{unix: socket.NewNamespace()}}}
	f.proc.pid.Store(1)
	f.proc.limit.Store(DefaultLimit)
	t := NewTable()
	t.users.Store(1)
	f.table.Store(t)
	c := &fsContext{cwd: fs.Root(), umask: 0o022}
	c.users.Store(1)
	f.ctx.Store(c)
	// The file's path after links, as Linux's d_path names it; none:
	// /proc/self/exe is ENOENT.
	if file, err := fs.OpenExec(f, fs.Root(), exe, false); err == nil {
		f.proc.exe, f.proc.exeAt = file.Loc(), file.Name()
		file.DecRef()
	}
	for fd, file := range fs.StdioFiles() {
		t.InstallAt(int32(fd), file, DefaultLimit, false)
	}
	return f
}

// FS returns the file system.
func (fs *Files) FS() *vfs.FS { return fs.fs }

// Table returns the task's descriptor table.
func (fs *Files) Table() *Table { return fs.tab() }

// Fork returns the files of a child process (fork(2)): a copy of the
// descriptor table and of the working directory and umask.
func (fs *Files) Fork() *Files { return fs.Clone(false, false, false) }

// Clone returns the files of a new task (clone(2)): sharing the caller's
// descriptor table with shareFiles (CLONE_FILES), else a copy of it
// (kernel/fork.c copy_files, fs/file.c dup_fd); sharing its working
// directory and umask with shareFS (CLONE_FS), else a copy (copy_fs); a
// thread of the caller's process (CLONE_THREAD), or the first of a new
// one with a copy of what the process's threads share.
func (fs *Files) Clone(shareFiles, shareFS, thread bool) *Files {
	c := &Files{fs: fs.fs, proc: fs.proc}
	if !thread {
		p := fs.proc
		p.mu.Lock()
		c.proc = &procFiles{sock: p.sock, sigio: p.sigio, exe: p.exe, exeAt: p.exeAt, args: p.args}
		p.mu.Unlock()
		c.proc.pid.Store(p.pid.Load())
		c.proc.cred.Store(p.cred.Load())
		c.proc.limit.Store(p.limit.Load())
	}
	if t := fs.tab(); shareFiles {
		t.users.Add(1)
		c.table.Store(t)
	} else {
		c.table.Store(t.Fork())
	}
	if x := fs.fsc(); shareFS {
		x.users.Add(1)
		c.ctx.Store(x)
	} else {
		c.ctx.Store(x.copy())
	}
	return c
}

// Unshare gives the task a private copy of its descriptor table
// (files) and of its working directory and umask (fsCtx) where another
// task shares them (unshare(2): kernel/fork.c unshare_fd, unshare_fs); a
// table or context nobody else uses stays as it is.
func (fs *Files) Unshare(files, fsCtx bool) {
	if t := fs.tab(); files && t.users.Load() > 1 {
		fs.table.Store(t.Fork())
		t.release()
	}
	if x := fs.fsc(); fsCtx && x.users.Load() > 1 {
		fs.ctx.Store(x.copy())
		x.users.Add(-1)
	}
}

// close_range(2) flags (include/uapi/linux/close_range.h).
const (
	closeRangeUnshare = 1 << 1
	closeRangeCloexec = 1 << 2
)

// CloseRange is close_range(2) (fs/file.c): it closes the descriptors
// from first to last, or with CLOSE_RANGE_CLOEXEC marks them
// close-on-exec; with CLOSE_RANGE_UNSHARE a table other tasks share is
// first replaced by a private copy (dup_fd), which leaves out the
// descriptors the call would close when the range covers every one from
// first on, so its room is what the rest needs.
func (fs *Files) CloseRange(first, last, flags uint32) int64 {
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return errno(vfs.EINVAL)
	}
	t := fs.tab()
	if flags&closeRangeUnshare != 0 && t.users.Load() > 1 {
		n := -1
		if flags&closeRangeCloexec == 0 && int64(last) >= int64(t.last()) {
			n = int(first)
		}
		old := t
		t = old.forkBelow(n)
		fs.table.Store(t)
		old.release()
	}
	t.rangeOp(first, last, flags&closeRangeCloexec != 0)
	return 0
}

// TableBytes returns about how much memory a copy of the task's
// descriptor table takes (clone without CLONE_FILES, unshare).
func (fs *Files) TableBytes() int64 { return fs.tab().CopyBytes() }

// TableShared reports whether other tasks use the task's descriptor
// table (unshare would copy it).
func (fs *Files) TableShared() bool { return fs.tab().users.Load() > 1 }

// Release drops the task's references to its descriptor table and
// file-system context, when it exits (kernel/exit.c exit_files, exit_fs):
// the last task using a table closes its descriptors.
func (fs *Files) Release() {
	fs.tab().release()
	fs.fsc().users.Add(-1)
}

// SetPid records the process's ID, what /proc/self names.
func (fs *Files) SetPid(pid int32) { fs.proc.pid.Store(pid) }

// SetTid records the task's ID, what /proc/thread-self names.
func (fs *Files) SetTid(tid int32) { fs.tid.Store(tid) }

// Tid returns the task's ID (vfs's /proc/thread-self): what SetTid
// recorded, else the process's.
func (fs *Files) Tid() int32 {
	if t := fs.tid.Load(); t != 0 {
		return t
	}
	return fs.Pid()
}

// SetCred records whose credentials the file permission checks use (the
// process's); without one they are root's.
func (fs *Files) SetCred(c vfs.CredSource) { fs.proc.cred.Store(&c) }

// CredSource returns what SetCred recorded, or nil (vfs's permission
// checks).
func (fs *Files) CredSource() vfs.CredSource {
	if c := fs.proc.cred.Load(); c != nil {
		return *c
	}
	return nil
}

// Pid returns the process's ID (vfs's /proc/self).
func (fs *Files) Pid() int32 { return fs.proc.pid.Load() }

// Limit returns the process's descriptor limit (RLIMIT_NOFILE).
func (fs *Files) Limit() int { return int(fs.proc.limit.Load()) }

// SetLimit sets the process's descriptor limit; descriptors already open
// above it stay open, as on Linux. EPERM above MaxLimit, EINVAL below 0.
func (fs *Files) SetLimit(n int) error {
	if n < 0 {
		return vfs.EINVAL
	}
	if n > MaxLimit {
		return vfs.EPERM
	}
	fs.proc.limit.Store(int64(n))
	return nil
}

// ConsoleLflag reports whether fd is open on the console, and the
// console's c_lflag.
func (fs *Files) ConsoleLflag(fd int32) (uint32, bool) {
	f := fs.tab().peek(fd)
	if f == nil {
		return 0, false
	}
	return vfs.ConsoleLflag(f)
}

// Exec makes the task's descriptor table its own if others share it
// (fs/exec.c begin_new_exec: unshare_files), closes its close-on-exec
// descriptors and records the new program's file, open as exe
// (execve(2)).
func (fs *Files) Exec(exe *vfs.File) {
	fs.Unshare(true, false)
	fs.tab().CloseOnExec()
	fs.proc.mu.Lock()
	fs.proc.exe, fs.proc.exeAt = exe.Loc(), exe.Name()
	fs.proc.mu.Unlock()
}

// Exe implements vfs.Process.
func (fs *Files) Exe() (vfs.Loc, string) {
	fs.proc.mu.Lock()
	defer fs.proc.mu.Unlock()
	return fs.proc.exe, fs.proc.exeAt
}

// Cwd implements vfs.Process.
func (fs *Files) Cwd() vfs.Loc {
	c := fs.fsc()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cwd
}

// FD implements vfs.Process.
func (fs *Files) FD(fd int32) *vfs.File { return fs.tab().peek(fd) }

// FDs implements vfs.Process.
func (fs *Files) FDs() []int32 { return fs.tab().FDs() }

// Cloexec reports descriptor fd's close-on-exec flag, which
// /proc/PID/fdinfo shows among the file's flags.
func (fs *Files) Cloexec(fd int32) bool {
	c, _ := fs.tab().Cloexec(fd)
	return c
}

// errno returns -e.
func errno(e vfs.Errno) int64 { return -int64(e) }

// ret returns n, or the negated errno of err.
func ret(n int64, err error) int64 {
	if err != nil {
		return errno(vfs.ErrnoOf(err))
	}
	return n
}

// file returns the file open as fd, with a reference the caller drops.
func (fs *Files) file(fd int32) (*vfs.File, error) {
	f, ok := fs.tab().Get(fd)
	if !ok {
		return nil, vfs.EBADF
	}
	return f, nil
}

// ioFile is file for calls that do I/O: O_PATH descriptors are EBADF.
func (fs *Files) ioFile(fd int32) (*vfs.File, error) {
	f, err := fs.file(fd)
	if err == nil && f.IsPath() {
		f.DecRef()
		return nil, vfs.EBADF
	}
	return f, err
}

// readPath reads a path argument: EFAULT for a bad pointer, ENAMETOOLONG
// without a NUL within PATH_MAX bytes.
func readPath(m mem.Memory, addr uint64) (string, error) {
	s, err := mem.ReadString(m, addr, linux.PathMax)
	switch {
	case errors.Is(err, mem.ErrNameTooLong):
		return "", vfs.ENAMETOOLONG
	case err != nil:
		return "", vfs.EFAULT
	}
	return s, nil
}

// dirAt returns where a path relative to dirfd starts: the working
// directory for AT_FDCWD, else the directory open as dirfd. An absolute
// path ignores dirfd, as Linux does.
func (fs *Files) dirAt(dirfd int32, path string) (vfs.Loc, error) {
	if path == "" {
		return vfs.Loc{}, vfs.ENOENT
	}
	if path[0] == '/' {
		return fs.fs.Root(), nil
	}
	if dirfd == linux.AtFdcwd {
		return fs.Cwd(), nil
	}
	f, err := fs.file(dirfd)
	if err != nil {
		return vfs.Loc{}, err
	}
	defer f.DecRef()
	if !f.Loc().IsDir() {
		return vfs.Loc{}, vfs.ENOTDIR
	}
	return f.Loc(), nil
}

// OpenExec opens for reading the program execve(2) or execveat(2) names
// (fs/exec.c do_open_execat): path relative to dirfd (AT_FDCWD: the
// working directory; an absolute path ignores it); with AT_EMPTY_PATH
// and an empty path the file open as dirfd, whatever its access mode
// (O_PATH too), reopened as Linux reopens it, which must be a regular
// file (EACCES); with AT_SYMLINK_NOFOLLOW a final symbolic link is
// ELOOP. The caller must have execute permission (EACCES). It returns
// the file and its path (/proc/PID/exe).
func (fs *Files) OpenExec(dirfd int32, path string, flags uint32) (*vfs.File, string, error) {
	if path == "" && flags&linux.AtEmptyPath != 0 {
		if dirfd == linux.AtFdcwd {
			return nil, "", vfs.EACCES // a directory
		}
		f, err := fs.file(dirfd)
		if err != nil {
			return nil, "", err
		}
		loc, typ, name := f.Loc(), f.Stat().Mode&linux.SIfmt, f.Name()
		f.DecRef()
		if loc.IsZero() || typ != linux.SIfreg {
			return nil, "", vfs.EACCES
		}
		file, err := fs.fs.OpenExec(fs, fs.fs.Root(), "/proc/thread-self/fd/"+strconv.Itoa(int(dirfd)), false)
		return file, name, err
	}
	at, err := fs.dirAt(dirfd, path)
	if err != nil {
		return nil, "", err
	}
	file, err := fs.fs.OpenExec(fs, at, path, flags&linux.AtSymlinkNofollow != 0)
	if err != nil {
		return nil, "", err
	}
	return file, file.Name(), nil
}

// emptyPathTarget returns what AT_EMPTY_PATH names: the file open as
// dirfd, or the working directory for AT_FDCWD.
func (fs *Files) emptyPathTarget(dirfd int32) (vfs.Loc, *vfs.File, error) {
	if dirfd == linux.AtFdcwd {
		return fs.Cwd(), nil, nil
	}
	f, err := fs.file(dirfd)
	if err != nil {
		return vfs.Loc{}, nil, err
	}
	return f.Loc(), f, nil
}

// install puts a new file at the lowest free descriptor, dropping it if
// there is none. With the kernel's memory short it refuses every new open
// file, ENFILE, as Linux's alloc_empty_file does past the system's limit.
func (fs *Files) install(f *vfs.File, cloexec bool) int64 {
	if mem.KernelShort() {
		f.DecRef()
		return errno(vfs.ENFILE)
	}
	fd, err := fs.tab().Install(f, 0, fs.Limit(), cloexec)
	if err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return int64(fd)
}

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

// Files is a process's view of the file system: its descriptor table,
// working directory, umask and executable path. Its methods are the
// system calls; they are safe for concurrent use by the process's
// threads. Methods that may block take the calling thread's interrupt
// channel and return -EINTR when it is closed (the caller decides about
// restarting).
type Files struct {
	fs    *vfs.FS
	table *Table
	sock  *sockets

	pid  atomic.Int32 // the process's ID, /proc/self (1 unless SetPid)
	cred atomic.Pointer[vfs.CredSource]

	mu    sync.Mutex // guards the fields below
	sigio IOSignaler // O_ASYNC's signals (sys_async.go)
	cwd   vfs.Loc
	umask uint32
	exe   string
	args  []string
}

// SetCmdline records the program's arguments, which /proc/self/cmdline
// shows (execve sets them on Linux).
func (fs *Files) SetCmdline(args []string) {
	fs.mu.Lock()
	fs.args = append([]string(nil), args...)
	fs.mu.Unlock()
}

// Cmdline returns the arguments SetCmdline recorded.
func (fs *Files) Cmdline() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.args
}

// New returns the files of a new process on fs, running the program at
// path exe (what /proc/self/exe shows), with the console (or the streams
// of vfs.Options.Stdio) open as descriptors 0, 1 and 2, the root as
// working directory, and umask 022.
func New(fs *vfs.FS, exe string) *Files {
	f := &Files{fs: fs, table: NewTable(), sock: &sockets{unix: socket.NewNamespace()}, cwd: fs.Root(), umask: 0o022, exe: exe}
	f.table.owner = f
	f.pid.Store(1)
	for fd, file := range fs.StdioFiles() {
		f.table.InstallAt(int32(fd), file, false)
	}
	return f
}

// FS returns the file system.
func (fs *Files) FS() *vfs.FS { return fs.fs }

// Table returns the descriptor table.
func (fs *Files) Table() *Table { return fs.table }

// Fork returns a copy for a child process (fork(2)): the same open files,
// working directory and umask.
func (fs *Files) Fork() *Files {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := &Files{fs: fs.fs, sock: fs.sock, cwd: fs.cwd, umask: fs.umask, exe: fs.exe, args: fs.args, sigio: fs.sigio}
	c.table = fs.table.Fork(c)
	c.pid.Store(fs.pid.Load())
	return c
}

// SetPid records the process's ID, what /proc/self names.
func (fs *Files) SetPid(pid int32) { fs.pid.Store(pid) }

// SetCred records whose credentials the file permission checks use (the
// process's); without one they are root's.
func (fs *Files) SetCred(c vfs.CredSource) { fs.cred.Store(&c) }

// CredSource returns what SetCred recorded, or nil (vfs's permission
// checks).
func (fs *Files) CredSource() vfs.CredSource {
	if c := fs.cred.Load(); c != nil {
		return *c
	}
	return nil
}

// Pid returns the process's ID (vfs's /proc/self).
func (fs *Files) Pid() int32 { return fs.pid.Load() }

// ConsoleLflag reports whether fd is open on the console, and the
// console's c_lflag.
func (fs *Files) ConsoleLflag(fd int32) (uint32, bool) {
	f := fs.table.peek(fd)
	if f == nil {
		return 0, false
	}
	return vfs.ConsoleLflag(f)
}

// Exec closes the close-on-exec descriptors and records the new program's
// path (execve(2)).
func (fs *Files) Exec(exe string) {
	fs.table.CloseOnExec()
	fs.mu.Lock()
	fs.exe = exe
	fs.mu.Unlock()
}

// CloseAll closes every descriptor, when the process exits.
func (fs *Files) CloseAll() { fs.table.CloseAll() }

// Exe implements vfs.Process.
func (fs *Files) Exe() string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.exe
}

// Cwd implements vfs.Process.
func (fs *Files) Cwd() vfs.Loc {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.cwd
}

// FD implements vfs.Process.
func (fs *Files) FD(fd int32) *vfs.File { return fs.table.peek(fd) }

// FDs implements vfs.Process.
func (fs *Files) FDs() []int32 { return fs.table.FDs() }

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
	f, ok := fs.table.Get(fd)
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
		file, err := fs.fs.OpenExec(fs, fs.fs.Root(), "/proc/self/fd/"+strconv.Itoa(int(dirfd)), false)
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
// there is none.
func (fs *Files) install(f *vfs.File, cloexec bool) int64 {
	fd, err := fs.table.Install(f, 0, cloexec)
	if err != nil {
		f.DecRef()
		return ret(0, err)
	}
	return int64(fd)
}

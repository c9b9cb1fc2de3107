package fdtable

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// dispatched are the calls Syscall serves, by name.
var dispatched = map[string]uint64{
	"read": sysRead, "write": sysWrite, "open": sysOpen, "close": sysClose, "stat": sysStat,
	"fstat": sysFstat, "lstat": sysLstat, "poll": sysPoll, "lseek": sysLseek, "ioctl": sysIoctl,
	"pread64": sysPread64, "pwrite64": sysPwrite64, "readv": sysReadv, "writev": sysWritev,
	"access": sysAccess, "pipe": sysPipe, "dup": sysDup, "dup2": sysDup2, "sendfile": sysSendfile,
	"fcntl": sysFcntl, "flock": sysFlock, "fsync": sysFsync, "fdatasync": sysFdatasync,
	"truncate": sysTruncate, "ftruncate": sysFtruncate, "getcwd": sysGetcwd, "chdir": sysChdir,
	"fchdir": sysFchdir, "rename": sysRename, "mkdir": sysMkdir, "rmdir": sysRmdir, "creat": sysCreat,
	"link": sysLink, "unlink": sysUnlink, "symlink": sysSymlink, "readlink": sysReadlink,
	"chmod": sysChmod, "fchmod": sysFchmod, "chown": sysChown, "fchown": sysFchown, "lchown": sysLchown,
	"umask": sysUmask, "mknod": sysMknod, "epoll_create": sysEpollCreate, "getdents64": sysGetdents64,
	"fadvise64": sysFadvise64, "epoll_wait": sysEpollWait, "epoll_ctl": sysEpollCtl, "openat": sysOpenat,
	"mkdirat": sysMkdirat, "mknodat": sysMknodat, "fchownat": sysFchownat, "newfstatat": sysNewfstatat,
	"unlinkat": sysUnlinkat, "renameat": sysRenameat, "linkat": sysLinkat, "symlinkat": sysSymlinkat,
	"readlinkat": sysReadlinkat, "fchmodat": sysFchmodat, "faccessat": sysFaccessat, "ppoll": sysPpoll,
	"utimensat": sysUtimensat, "epoll_pwait": sysEpollPwait, "eventfd": sysEventfd, "eventfd2": sysEventfd2,
	"epoll_create1": sysEpollCreate1, "dup3": sysDup3, "pipe2": sysPipe2, "preadv": sysPreadv,
	"pwritev": sysPwritev, "renameat2": sysRenameat2, "statx": sysStatx, "faccessat2": sysFaccessat2, "memfd_create": sysMemfdCreate, "fallocate": sysFallocate,
	"epoll_pwait2": sysEpollPwait2, "copy_file_range": sysCopyFileRange, "fchmodat2": sysFchmodat2, "openat2": sysOpenat2,
	"select": sysSelect, "pselect6": sysPselect6, "timerfd_create": sysTimerfdCreate,
	"timerfd_settime": sysTimerfdSet, "timerfd_gettime": sysTimerfdGet,
	"utime": sysUtime, "utimes": sysUtimes, "futimesat": sysFutimesat, "statfs": sysStatfs,
	"fstatfs": sysFstatfs, "sync_file_range": sysSyncFileRange, "close_range": sysCloseRange,
	"getdents": sysGetdents, "readahead": sysReadahead, "syncfs": sysSyncfs, "preadv2": sysPreadv2,
	"pwritev2": sysPwritev2, "inotify_init": sysInotifyInit, "inotify_add_watch": sysInotifyAdd,
	"inotify_rm_watch": sysInotifyRm, "inotify_init1": sysInotifyInit1, "signalfd": sysSignalfd,
	"signalfd4": sysSignalfd4, "tee": sysTee, "vmsplice": sysVmsplice,
}

// TestSyscallNumbers checks the dispatcher's numbers against the
// generated system call table.
func TestSyscallNumbers(t *testing.T) {
	for name, nr := range dispatched {
		if got := linux.SyscallName(nr); got != name {
			t.Errorf("number %d is %q, want %q", nr, got, name)
		}
	}
}

// TestSyscallDispatch calls a few system calls by number.
func TestSyscallDispatch(t *testing.T) {
	e := newEnv(t)
	call := func(nr uint64, a ...uint64) int64 {
		var args [6]uint64
		copy(args[:], a)
		r, ok := e.f.Syscall(e.m, nil, nr, args)
		if !ok {
			t.Fatalf("Syscall(%s) not handled", linux.SyscallName(nr))
		}
		return r
	}
	path := e.str("/etc/hosts")
	fd := call(sysOpenat, uint64(0xffffffff_ffffff9c), path, linux.ORdonly)
	if fd != 3 {
		t.Fatalf("openat(AT_FDCWD as a 64-bit register) = %d", fd)
	}
	buf := e.alloc(64)
	if n := call(sysRead, uint64(fd)|0xdead<<32, buf, 64); n != 20 {
		t.Errorf("read with garbage in the fd register's high half = %d", n)
	}
	if n := call(sysPread64, uint64(fd), buf, 4, 10); n != 4 || string(e.get(buf, 4)) != "loca" {
		t.Errorf("pread64 = %d %q", n, e.get(buf, 4))
	}
	if n := call(sysClose, uint64(fd)); n != 0 {
		t.Errorf("close = %d", n)
	}
	if _, ok := e.f.Syscall(e.m, nil, 39 /* getpid */, [6]uint64{}); ok {
		t.Error("getpid was handled by the file layer")
	}
	// Exactly the numbers in the table are handled.
	handled := 0
	for nr := uint64(0); nr < 512; nr++ {
		if _, ok := e.f.Syscall(e.m, closedChan(), nr, [6]uint64{^uint64(0), badAddr, badAddr, 0, 0, 0}); ok {
			handled++
		}
	}
	if want := len(dispatched) + len(socketCalls); handled != want {
		t.Errorf("%d numbers handled, want %d", handled, want)
	}
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func TestPread(t *testing.T) {
	e := newEnv(t)
	fd := e.open("/etc/hosts", linux.ORdonly, 0)
	buf := make([]byte, 32)
	if n := e.f.Pread(fd, buf, 4); n != 16 || string(buf[:16]) != "0.0.1 localhost\n" {
		t.Errorf("Pread = %d %q", n, buf[:max(n, 0)])
	}
	w := e.open("/tmp/w", linux.OCreat|linux.OWronly, 0o644)
	if n := e.f.Pread(w, buf, 0); n != neg(linux.EBADF) {
		t.Errorf("Pread of a write-only file = %d", n)
	}
	if n := e.f.Pread(0, buf, 0); n != neg(linux.ESPIPE) {
		t.Errorf("Pread of the console = %d", n)
	}
}

package fdtable

import (
	"time"

	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// System call numbers of the calls Files serves
// (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	sysRead          = 0
	sysWrite         = 1
	sysOpen          = 2
	sysClose         = 3
	sysStat          = 4
	sysFstat         = 5
	sysLstat         = 6
	sysPoll          = 7
	sysLseek         = 8
	sysIoctl         = 16
	sysPread64       = 17
	sysPwrite64      = 18
	sysReadv         = 19
	sysWritev        = 20
	sysAccess        = 21
	sysPipe          = 22
	sysSelect        = 23
	sysDup           = 32
	sysDup2          = 33
	sysSendfile      = 40
	sysFcntl         = 72
	sysFlock         = 73
	sysFsync         = 74
	sysFdatasync     = 75
	sysTruncate      = 76
	sysFtruncate     = 77
	sysGetcwd        = 79
	sysChdir         = 80
	sysFchdir        = 81
	sysRename        = 82
	sysMkdir         = 83
	sysRmdir         = 84
	sysCreat         = 85
	sysLink          = 86
	sysUnlink        = 87
	sysSymlink       = 88
	sysReadlink      = 89
	sysChmod         = 90
	sysFchmod        = 91
	sysChown         = 92
	sysFchown        = 93
	sysLchown        = 94
	sysUmask         = 95
	sysUtime         = 132
	sysMknod         = 133
	sysStatfs        = 137
	sysFstatfs       = 138
	sysUtimes        = 235
	sysFutimesat     = 261
	sysSyncFileRange = 277
	sysEpollCreate   = 213
	sysGetdents64    = 217
	sysFadvise64     = 221
	sysEpollWait     = 232
	sysEpollCtl      = 233
	sysOpenat        = 257
	sysMkdirat       = 258
	sysMknodat       = 259
	sysFchownat      = 260
	sysNewfstatat    = 262
	sysUnlinkat      = 263
	sysRenameat      = 264
	sysLinkat        = 265
	sysSymlinkat     = 266
	sysReadlinkat    = 267
	sysFchmodat      = 268
	sysFaccessat     = 269
	sysPselect6      = 270
	sysPpoll         = 271
	sysUtimensat     = 280
	sysEpollPwait    = 281
	sysTimerfdCreate = 283
	sysEventfd       = 284
	sysTimerfdSet    = 286
	sysTimerfdGet    = 287
	sysEventfd2      = 290
	sysEpollCreate1  = 291
	sysDup3          = 292
	sysPipe2         = 293
	sysPreadv        = 295
	sysPwritev       = 296
	sysRenameat2     = 316
	sysCopyFileRange = 326
	sysStatx         = 332
	sysMemfdCreate   = 319
	sysFallocate     = 285
	sysFaccessat2    = 439
	sysFchmodat2     = 452
	sysEpollPwait2   = 441
	sysOpenat2       = 437
	sysCloseRange    = 436
	sysGetdents      = 78
	sysReadahead     = 187
	sysSyncfs        = 306
	sysPreadv2       = 327
	sysPwritev2      = 328
	sysInotifyInit   = 253
	sysInotifyAdd    = 254
	sysInotifyRm     = 255
	sysInotifyInit1  = 294
	sysSignalfd      = 282
	sysSignalfd4     = 289
)

// Syscall serves system call nr with raw arguments a for a thread whose
// memory is m and whose blocking calls end when intr closes. handled is
// false for a call Files does not serve.
//
// epoll_pwait, epoll_pwait2, ppoll and pselect6 are served without their signal
// mask argument: a caller that supports signal masks swaps the mask
// around the call itself.
func (fs *Files) Syscall(m mem.Memory, intr <-chan struct{}, nr uint64, a [6]uint64) (result int64, handled bool) {
	return fs.SyscallSlack(m, intr, DefaultTimerSlack, nr, a)
}

// SyscallSlack is Syscall for a thread whose timer slack (Linux's
// timer_slack_ns, prctl PR_SET_TIMERSLACK) is slack: the least by which
// poll, select and epoll_wait timeouts may end late (fs/select.c
// select_estimate_accuracy).
func (fs *Files) SyscallSlack(m mem.Memory, intr <-chan struct{}, slack time.Duration, nr uint64, a [6]uint64) (result int64, handled bool) {
	fd := func(i int) int32 { return int32(a[i]) }
	u32 := func(i int) uint32 { return uint32(a[i]) }
	switch nr {
	case sysRead:
		return fs.Read(m, intr, fd(0), a[1], a[2]), true
	case sysWrite:
		return fs.Write(m, intr, fd(0), a[1], a[2]), true
	case sysOpen:
		return fs.Open(m, intr, a[0], u32(1), u32(2)), true
	case sysClose:
		return fs.Close(fd(0)), true
	case sysCloseRange:
		return fs.CloseRange(u32(0), u32(1), u32(2)), true
	case sysStat:
		return fs.Stat(m, a[0], a[1]), true
	case sysFstat:
		return fs.Fstat(m, fd(0), a[1]), true
	case sysLstat:
		return fs.Lstat(m, a[0], a[1]), true
	case sysPoll:
		return fs.pollMs(m, intr, slack, a[0], a[1], int32(a[2])), true
	case sysLseek:
		return fs.Lseek(fd(0), int64(a[1]), u32(2)), true
	case sysIoctl:
		return fs.Ioctl(m, fd(0), u32(1), a[2]), true
	case sysPread64:
		return fs.Pread64(m, fd(0), a[1], a[2], int64(a[3])), true
	case sysPwrite64:
		return fs.Pwrite64(m, fd(0), a[1], a[2], int64(a[3])), true
	case sysReadv:
		return fs.Readv(m, intr, fd(0), a[1], a[2]), true
	case sysWritev:
		return fs.Writev(m, intr, fd(0), a[1], a[2]), true
	case sysAccess:
		return fs.Access(m, a[0], u32(1)), true
	case sysPipe:
		return fs.Pipe(m, a[0]), true
	case sysDup:
		return fs.Dup(fd(0)), true
	case sysDup2:
		return fs.Dup2(fd(0), fd(1)), true
	case sysCopyFileRange:
		return fs.CopyFileRange(m, fd(0), a[1], fd(2), a[3], a[4], u32(5)), true
	case sysSendfile:
		return fs.Sendfile(m, intr, fd(0), fd(1), a[2], a[3]), true
	case sysFcntl:
		return fs.fcntl(m, intr, fd(0), u32(1), a[2]), true
	case sysFlock:
		return fs.Flock(intr, fd(0), u32(1)), true
	case sysFsync:
		return fs.Fsync(fd(0)), true
	case sysFdatasync:
		return fs.Fdatasync(fd(0)), true
	case sysTruncate:
		return fs.Truncate(m, a[0], int64(a[1])), true
	case sysFtruncate:
		return fs.Ftruncate(fd(0), int64(a[1])), true
	case sysGetcwd:
		return fs.Getcwd(m, a[0], a[1]), true
	case sysChdir:
		return fs.Chdir(m, a[0]), true
	case sysFchdir:
		return fs.Fchdir(fd(0)), true
	case sysRename:
		return fs.Rename(m, a[0], a[1]), true
	case sysMkdir:
		return fs.Mkdir(m, a[0], u32(1)), true
	case sysRmdir:
		return fs.Rmdir(m, a[0]), true
	case sysCreat:
		return fs.Creat(m, intr, a[0], u32(1)), true
	case sysLink:
		return fs.Link(m, a[0], a[1]), true
	case sysUnlink:
		return fs.Unlink(m, a[0]), true
	case sysSymlink:
		return fs.Symlink(m, a[0], a[1]), true
	case sysReadlink:
		return fs.Readlink(m, a[0], a[1], int32(a[2])), true
	case sysChmod:
		return fs.Chmod(m, a[0], u32(1)), true
	case sysFchmod:
		return fs.Fchmod(fd(0), u32(1)), true
	case sysChown:
		return fs.Chown(m, a[0], u32(1), u32(2)), true
	case sysFchown:
		return fs.Fchown(fd(0), u32(1), u32(2)), true
	case sysLchown:
		return fs.Lchown(m, a[0], u32(1), u32(2)), true
	case sysUmask:
		return fs.Umask(u32(0)), true
	case sysMknod:
		return fs.Mknodat(m, -100, a[0], u32(1), u32(2)), true
	case sysEpollCreate:
		return fs.EpollCreate(int32(a[0])), true
	case sysGetdents64:
		return fs.Getdents64(m, fd(0), a[1], a[2]), true
	case sysFadvise64:
		return fs.Fadvise64(fd(0), int64(a[1]), int64(a[2]), int32(a[3])), true
	case sysEpollWait, sysEpollPwait:
		return fs.epollPwait(m, intr, slack, fd(0), a[1], int32(a[2]), int32(a[3])), true
	case sysEpollCtl:
		return fs.EpollCtl(m, fd(0), u32(1), fd(2), a[3]), true
	case sysOpenat:
		return fs.Openat(m, intr, fd(0), a[1], u32(2), u32(3)), true
	case sysOpenat2:
		return fs.Openat2(m, intr, fd(0), a[1], a[2], a[3]), true
	case sysMkdirat:
		return fs.Mkdirat(m, fd(0), a[1], u32(2)), true
	case sysMknodat:
		return fs.Mknodat(m, fd(0), a[1], u32(2), u32(3)), true
	case sysFchownat:
		return fs.Fchownat(m, fd(0), a[1], u32(2), u32(3), u32(4)), true
	case sysNewfstatat:
		return fs.Newfstatat(m, fd(0), a[1], a[2], u32(3)), true
	case sysUnlinkat:
		return fs.Unlinkat(m, fd(0), a[1], u32(2)), true
	case sysRenameat:
		return fs.Renameat(m, fd(0), a[1], fd(2), a[3]), true
	case sysLinkat:
		return fs.Linkat(m, fd(0), a[1], fd(2), a[3], u32(4)), true
	case sysSymlinkat:
		return fs.Symlinkat(m, a[0], fd(1), a[2]), true
	case sysReadlinkat:
		return fs.Readlinkat(m, fd(0), a[1], a[2], int32(a[3])), true
	case sysFchmodat:
		return fs.Fchmodat(m, fd(0), a[1], u32(2)), true
	case sysFchmodat2:
		return fs.Fchmodat2(m, fd(0), a[1], u32(2), u32(3)), true
	case sysFaccessat:
		return fs.Faccessat(m, fd(0), a[1], u32(2)), true
	case sysUtime:
		return fs.Utime(m, a[0], a[1]), true
	case sysUtimes:
		return fs.Utimes(m, a[0], a[1]), true
	case sysFutimesat:
		return fs.Futimesat(m, fd(0), a[1], a[2]), true
	case sysStatfs:
		return fs.Statfs(m, a[0], a[1]), true
	case sysFstatfs:
		return fs.Fstatfs(m, fd(0), a[1]), true
	case sysSyncFileRange:
		return fs.SyncFileRange(fd(0), int64(a[1]), int64(a[2]), u32(3)), true
	case sysSelect:
		return fs.selectTv(m, intr, slack, int32(a[0]), a[1], a[2], a[3], a[4]), true
	case sysPselect6:
		return fs.pselect6(m, intr, slack, int32(a[0]), a[1], a[2], a[3], a[4]), true
	case sysTimerfdCreate:
		return fs.TimerfdCreate(int32(a[0]), u32(1)), true
	case sysTimerfdSet:
		return fs.TimerfdSettime(m, fd(0), u32(1), a[2], a[3]), true
	case sysTimerfdGet:
		return fs.TimerfdGettime(m, fd(0), a[1]), true
	case sysPpoll:
		return fs.ppoll(m, intr, slack, a[0], a[1], a[2]), true
	case sysUtimensat:
		return fs.Utimensat(m, fd(0), a[1], a[2], u32(3)), true
	case sysEventfd:
		return fs.Eventfd(u32(0)), true
	case sysEventfd2:
		return fs.Eventfd2(u32(0), u32(1)), true
	case sysEpollCreate1:
		return fs.EpollCreate1(u32(0)), true
	case sysDup3:
		return fs.Dup3(fd(0), fd(1), u32(2)), true
	case sysPipe2:
		return fs.Pipe2(m, a[0], u32(1)), true
	case sysPreadv:
		return fs.Preadv(m, fd(0), a[1], a[2], int64(a[3])), true
	case sysPwritev:
		return fs.Pwritev(m, fd(0), a[1], a[2], int64(a[3])), true
	case sysRenameat2:
		return fs.Renameat2(m, fd(0), a[1], fd(2), a[3], u32(4)), true
	case sysFallocate:
		return fs.Fallocate(fd(0), u32(1), int64(a[2]), int64(a[3])), true
	case sysMemfdCreate:
		return fs.MemfdCreate(m, a[0], u32(1)), true
	case sysStatx:
		return fs.Statx(m, fd(0), a[1], u32(2), u32(3), a[4]), true
	case sysFaccessat2:
		return fs.Faccessat2(m, fd(0), a[1], u32(2), u32(3)), true
	case sysTee:
		return fs.Tee(intr, fd(0), fd(1), a[2], u32(3)), true
	case sysVmsplice:
		return fs.Vmsplice(m, intr, fd(0), a[1], a[2], u32(3)), true
	case sysSignalfd:
		return fs.Signalfd4(m, fd(0), a[1], a[2], 0), true
	case sysSignalfd4:
		return fs.Signalfd4(m, fd(0), a[1], a[2], u32(3)), true
	case sysInotifyInit:
		return fs.InotifyInit1(0), true
	case sysInotifyInit1:
		return fs.InotifyInit1(u32(0)), true
	case sysInotifyAdd:
		return fs.InotifyAddWatch(m, fd(0), a[1], u32(2)), true
	case sysInotifyRm:
		return fs.InotifyRmWatch(fd(0), int32(a[1])), true
	case sysGetdents:
		return fs.Getdents(m, fd(0), a[1], a[2]), true
	case sysReadahead:
		return fs.Readahead(fd(0)), true
	case sysSyncfs:
		return fs.Syncfs(fd(0)), true
	case sysPreadv2:
		return fs.Preadv2(m, intr, fd(0), a[1], a[2], int64(a[3]), u32(5)), true
	case sysPwritev2:
		return fs.Pwritev2(m, intr, fd(0), a[1], a[2], int64(a[3]), u32(5)), true
	case sysEpollPwait2:
		return fs.epollPwait2(m, intr, slack, fd(0), a[1], int32(a[2]), a[3]), true
	}
	return fs.socketSyscall(m, intr, nr, a)
}

// Pread reads from descriptor fd at off into buf, which the kernel owns
// (for mapping a file), filling it unless the file ends first. It returns
// the bytes read or a negated errno: EBADF if fd is not open for reading,
// ESPIPE for a pipe or other stream.
func (fs *Files) Pread(fd int32, buf []byte, off uint64) int64 {
	f, err := fs.ioFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	var done int64
	for done < int64(len(buf)) {
		n, err := f.ReadAt(vfs.BytesBuf(buf[done:]), int64(off)+done)
		if err != nil {
			if done > 0 {
				break
			}
			return ret(0, err)
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done
}

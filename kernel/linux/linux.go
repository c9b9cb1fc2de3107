// Package linux holds the numbers and layouts of the Linux x86-64 system
// call ABI that both the kernel's trap layer and the North personality
// use. It has no logic beyond naming.
package linux

//go:generate go run gen_sysnames.go

// SyscallName returns the name of system call nr, or "" if unknown.
//
//go:nosplit
func SyscallName(nr uint64) string {
	if nr < uint64(len(sysNames)) {
		return sysNames[nr]
	}
	return ""
}

// MaxSyscall is one more than the highest known system call number.
const MaxSyscall = len(sysNames)

// System call numbers used by the kernel (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	SysRead            = 0
	SysWrite           = 1
	SysClose           = 3
	SysMmap            = 9
	SysMprotect        = 10
	SysMunmap          = 11
	SysRtSigaction     = 13
	SysRtSigprocmask   = 14
	SysRtSigreturn     = 15
	SysIoctl           = 16
	SysPread64         = 17
	SysSchedYield      = 24
	SysMadvise         = 28
	SysNanosleep       = 35
	SysGetpid          = 39
	SysClone           = 56
	SysExit            = 60
	SysUname           = 63
	SysFcntl           = 72
	SysSigaltstack     = 131
	SysPrctl           = 157
	SysArchPrctl       = 158
	SysGettid          = 186
	SysFutex           = 202
	SysSchedGetaffinit = 204
	SysClockGettime    = 228
	SysClockNanosleep  = 230
	SysExitGroup       = 231
	SysTgkill          = 234
	SysOpenat          = 257
	SysEpollPwait      = 281
	SysEventfd2        = 290
	SysEpollCreate1    = 291
	SysEpollCtl        = 233
	SysPrlimit64       = 302
	SysGetrandom       = 318
)

// Errno values (include/uapi/asm-generic/errno-base.h, errno.h).
const (
	EPERM     = 1
	ENOENT    = 2
	EINTR     = 4
	EBADF     = 9
	EAGAIN    = 11
	ENOMEM    = 12
	EFAULT    = 14
	EBUSY     = 16
	EEXIST    = 17
	ENODEV    = 19
	EINVAL    = 22
	EMFILE    = 24
	ENOTTY    = 25
	ENOSYS    = 38
	ETIMEDOUT = 110
)

// mmap flags and advice (include/uapi/asm-generic/mman-common.h, mman.h).
const (
	MapShared         = 0x01
	MapPrivate        = 0x02
	MapFixed          = 0x10
	MapAnonymous      = 0x20
	MapFixedNoreplace = 0x100000
	MadvDontneed      = 4
	MadvFree          = 8
)

// futex operations (include/uapi/linux/futex.h).
const (
	FutexWait          = 0
	FutexWake          = 1
	FutexWaitBitset    = 9
	FutexWakeBitset    = 10
	FutexPrivateFlag   = 128
	FutexClockRealtime = 256
)

// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h).
const (
	ArchSetGS = 0x1001
	ArchSetFS = 0x1002
	ArchGetFS = 0x1003
	ArchGetGS = 0x1004
)

// clone flags (include/uapi/linux/sched.h).
const (
	CloneVM      = 0x100
	CloneThread  = 0x10000
	CloneSettls  = 0x80000
	CloneVfork   = 0x4000
	CloneSighand = 0x800
)

// epoll (include/uapi/linux/eventpoll.h).
const (
	EpollCtlAdd = 1
	EpollCtlDel = 2
	EpollCtlMod = 3
	EpollIn     = 0x1
)

// Auxiliary vector types (include/uapi/linux/auxvec.h).
const (
	AtNull   = 0
	AtPhdr   = 3
	AtPhent  = 4
	AtPhnum  = 5
	AtPagesz = 6
	AtBase   = 7
	AtEntry  = 9
	AtUID    = 11
	AtEUID   = 12
	AtGID    = 13
	AtEGID   = 14
	AtHwcap  = 16
	AtClktck = 17
	AtSecure = 23
	AtRandom = 25
	AtExecfn = 31
)

// Clock IDs (include/uapi/linux/time.h).
const (
	ClockRealtime       = 0
	ClockMonotonic      = 1
	ClockProcessCPUTime = 2
	ClockThreadCPUTime  = 3
	ClockMonotonicRaw   = 4
	ClockRealtimeCoarse = 5
	ClockMonotonicCoars = 6
	ClockBoottime       = 7
)

// Signal-related constants (arch/x86/include/uapi/asm/signal.h).
const (
	NSig       = 64
	SigKill    = 9
	SigStop    = 19
	SSDisable  = 2
	SigSetSize = 8
)

// Resource limits (include/uapi/asm-generic/resource.h).
const RlimitNofile = 7

package sigframe

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// SigInfo is a struct siginfo (include/uapi/asm-generic/siginfo.h): the
// signal number and code, and the members of the _sifields union that
// the (Signo, Code) pair selects (see Layout). Members of other union
// arms are ignored by Marshal.
type SigInfo struct {
	Signo, Errno, Code int32

	// Pid and UID identify the sender (kill, tgkill, sigqueue, SIGCHLD).
	Pid int32
	UID uint32
	// Value is the sigval of sigqueue and POSIX timer signals.
	Value uint64
	// TimerID and Overrun describe a POSIX timer expiry.
	TimerID, Overrun int32
	// Status, Utime and Stime describe a child for SIGCHLD.
	Status       int32
	Utime, Stime int64
	// Addr is the faulting address for SIGSEGV, SIGBUS, SIGILL, SIGFPE
	// and SIGTRAP, and the calling instruction for SIGSYS.
	Addr uint64
	// Band and FD describe an I/O event for SIGIO/SIGPOLL.
	Band int64
	FD   int32
	// Syscall and Arch describe a blocked system call for SIGSYS.
	Syscall int32
	Arch    uint32
	// Raw, if set, is a whole siginfo a process made (rt_sigqueueinfo),
	// reported as it was given but for the signal number.
	Raw *[SigInfoSize]byte
}

// Layout names which member of siginfo's _sifields union is in use
// (enum siginfo_layout in include/linux/signal.h).
type Layout int

const (
	LayoutKill  Layout = iota // _kill: pid, uid
	LayoutTimer               // _timer: tid, overrun, sigval
	LayoutPoll                // _sigpoll: band, fd
	LayoutFault               // _sigfault: addr
	LayoutChld                // _sigchld: pid, uid, status, utime, stime
	LayoutRT                  // _rt: pid, uid, sigval
	LayoutSys                 // _sigsys: call_addr, syscall, arch
)

// Layout returns the union member for s's signal and code, following
// siginfo_layout in kernel/signal.c: codes from the kernel (0 < code <
// SI_KERNEL) select a per-signal member, codes from processes select
// _kill, _rt or _timer. Unlike Linux it does not check the code against
// each signal's highest defined value.
func (s SigInfo) Layout() Layout {
	if s.Code > linux.SiUser && s.Code < linux.SiKernel {
		switch s.Signo {
		case linux.SigIll, linux.SigFpe, linux.SigSegv, linux.SigBus, linux.SigTrap:
			return LayoutFault
		case linux.SigChld:
			return LayoutChld
		case linux.SigIO:
			return LayoutPoll
		case linux.SigSys:
			return LayoutSys
		}
		if s.Code <= linux.PollHup {
			return LayoutPoll
		}
		return LayoutKill
	}
	switch {
	case s.Code == linux.SiTimer:
		return LayoutTimer
	case s.Code == linux.SiSigio:
		return LayoutPoll
	case s.Code < 0:
		return LayoutRT
	}
	return LayoutKill
}

// Marshal encodes s as the 128-byte struct siginfo.
func (s SigInfo) Marshal() [SigInfoSize]byte {
	var b [SigInfoSize]byte
	le := binary.LittleEndian
	if s.Raw != nil {
		b = *s.Raw
		le.PutUint32(b[siSigno:], uint32(s.Signo))
		return b
	}
	le.PutUint32(b[siSigno:], uint32(s.Signo))
	le.PutUint32(b[siErrno:], uint32(s.Errno))
	le.PutUint32(b[siCode:], uint32(s.Code))
	switch s.Layout() {
	case LayoutKill:
		le.PutUint32(b[siPid:], uint32(s.Pid))
		le.PutUint32(b[siUID:], s.UID)
	case LayoutRT:
		le.PutUint32(b[siPid:], uint32(s.Pid))
		le.PutUint32(b[siUID:], s.UID)
		le.PutUint64(b[siValue:], s.Value)
	case LayoutTimer:
		le.PutUint32(b[siTimerID:], uint32(s.TimerID))
		le.PutUint32(b[siOverrun:], uint32(s.Overrun))
		le.PutUint64(b[siValue:], s.Value)
	case LayoutChld:
		le.PutUint32(b[siPid:], uint32(s.Pid))
		le.PutUint32(b[siUID:], s.UID)
		le.PutUint32(b[siStatus:], uint32(s.Status))
		le.PutUint64(b[siUtime:], uint64(s.Utime))
		le.PutUint64(b[siStime:], uint64(s.Stime))
	case LayoutFault:
		le.PutUint64(b[siAddr:], s.Addr)
	case LayoutPoll:
		le.PutUint64(b[siBand:], uint64(s.Band))
		le.PutUint32(b[siFD:], uint32(s.FD))
	case LayoutSys:
		le.PutUint64(b[siCallAddr:], s.Addr)
		le.PutUint32(b[siSyscall:], uint32(s.Syscall))
		le.PutUint32(b[siArch:], s.Arch)
	}
	return b
}

// UnmarshalSigInfo decodes a struct siginfo (for rt_sigqueueinfo and
// tests), reading the union member its signal and code select.
func UnmarshalSigInfo(b [SigInfoSize]byte) SigInfo {
	le := binary.LittleEndian
	s := SigInfo{
		Signo: int32(le.Uint32(b[siSigno:])),
		Errno: int32(le.Uint32(b[siErrno:])),
		Code:  int32(le.Uint32(b[siCode:])),
	}
	switch s.Layout() {
	case LayoutKill:
		s.Pid, s.UID = int32(le.Uint32(b[siPid:])), le.Uint32(b[siUID:])
	case LayoutRT:
		s.Pid, s.UID = int32(le.Uint32(b[siPid:])), le.Uint32(b[siUID:])
		s.Value = le.Uint64(b[siValue:])
	case LayoutTimer:
		s.TimerID, s.Overrun = int32(le.Uint32(b[siTimerID:])), int32(le.Uint32(b[siOverrun:]))
		s.Value = le.Uint64(b[siValue:])
	case LayoutChld:
		s.Pid, s.UID = int32(le.Uint32(b[siPid:])), le.Uint32(b[siUID:])
		s.Status = int32(le.Uint32(b[siStatus:]))
		s.Utime, s.Stime = int64(le.Uint64(b[siUtime:])), int64(le.Uint64(b[siStime:]))
	case LayoutFault:
		s.Addr = le.Uint64(b[siAddr:])
	case LayoutPoll:
		s.Band, s.FD = int64(le.Uint64(b[siBand:])), int32(le.Uint32(b[siFD:]))
	case LayoutSys:
		s.Addr = le.Uint64(b[siCallAddr:])
		s.Syscall, s.Arch = int32(le.Uint32(b[siSyscall:])), le.Uint32(b[siArch:])
	}
	return s
}

// SigInfoSize is sizeof(struct siginfo).
const SigInfoSize = siginfoSize

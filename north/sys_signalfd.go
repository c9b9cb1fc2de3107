package north

import (
	"encoding/binary"
	"sync/atomic"
)

// The personality's side of signalfd(2) (the file is north/vfs's): a
// thread's signals as a signalfd dequeues them, and the wake-up of
// signalfds when a signal is queued.

// signalQueued is called after a signal is queued (SetSignalQueuedHook).
var signalQueued atomic.Pointer[func()]

// SetSignalQueuedHook sets what is called each time a signal is queued
// to a process or thread: the wake-up of signalfds, whose readiness is a
// thread's pending signals.
func SetSignalQueuedHook(f func()) { signalQueued.Store(&f) }

// notifySignalQueued calls the hook.
func notifySignalQueued() {
	if f := signalQueued.Load(); f != nil {
		(*f)()
	}
}

// SignalPending reports whether a signal in mask is pending for the
// thread: its own or its process's (fs/signalfd.c signalfd_poll:
// next_signal of current's pending and shared_pending).
func (t *Task) SignalPending(mask uint64) bool {
	s := &t.p.sig
	s.mu.Lock()
	defer s.mu.Unlock()
	return (t.pending|s.pending)&mask != 0
}

// TakeSignals dequeues up to n pending signals in mask, each as a
// struct signalfd_siginfo (fs/signalfd.c signalfd_dequeue and
// signalfd_copyinfo). A deleted POSIX timer's signal is dropped as
// delivery drops it.
func (t *Task) TakeSignals(mask uint64, n int) []byte {
	var out []byte
	for len(out) < n*128 {
		info, ok := t.takeFrom(mask)
		if !ok {
			break
		}
		if info.timer != nil {
			ovr, live := info.timer.delivered()
			if !live {
				continue
			}
			info.overrun = ovr
		}
		out = append(out, t.signalfdInfo(info)...)
	}
	return out
}

// siginfo layouts (kernel/signal.c siginfo_layout).
const (
	silKill = iota
	silTimer
	silPoll
	silFault
	silChld
	silRT
	silSys
)

// sigCodes are, by signal, the number of codes it defines and their
// layout (kernel/signal.c sig_sicodes; include/uapi/asm-generic/
// siginfo.h NSIGILL ... NSIGSYS): SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8,
// SIGSEGV 11, SIGCHLD 17, SIGPOLL 29, SIGSYS 31.
var sigCodes = [32][2]int{
	4: {11, silFault}, 5: {6, silFault}, 7: {5, silFault}, 8: {15, silFault},
	11: {10, silFault}, 17: {6, silChld}, 29: {6, silPoll}, 31: {2, silSys},
}

// siginfoLayout is kernel/signal.c siginfo_layout: which union member of
// siginfo_t a signal's code fills.
func siginfoLayout(sig, code int32) int {
	const siTimer, siSigio, siKernel = -2, -5, 0x80
	if code > 0 && code < siKernel {
		if sig < int32(len(sigCodes)) && sigCodes[sig][0] > 0 && int(code) <= sigCodes[sig][0] {
			return sigCodes[sig][1]
		}
		if code <= 6 {
			return silPoll
		}
		return silKill
	}
	switch {
	case code == siTimer:
		return silTimer
	case code == siSigio:
		return silPoll
	case code < 0:
		return silRT
	}
	return silKill
}

// signalfdInfo is the struct signalfd_siginfo (include/uapi/linux/
// signalfd.h) of a signal: the fields of its siginfo_t's union member
// (x86-64 offsets), placed as signalfd_copyinfo places them.
func (t *Task) signalfdInfo(info sigInfo) []byte {
	si := t.siginfo(info).Marshal()
	le := binary.LittleEndian
	b := make([]byte, 128)
	copy(b[0:12], si[0:12]) // ssi_signo, ssi_errno, ssi_code
	sig, code := int32(le.Uint32(si[0:])), int32(le.Uint32(si[8:]))
	u32 := func(off int) uint32 { return le.Uint32(si[off:]) }
	u64 := func(off int) uint64 { return le.Uint64(si[off:]) }
	switch siginfoLayout(sig, code) {
	case silKill:
		le.PutUint32(b[12:], u32(16)) // ssi_pid
		le.PutUint32(b[16:], u32(20)) // ssi_uid
	case silTimer:
		le.PutUint32(b[24:], u32(16)) // ssi_tid
		le.PutUint32(b[32:], u32(20)) // ssi_overrun
		le.PutUint64(b[48:], u64(24)) // ssi_ptr
		le.PutUint32(b[44:], u32(24)) // ssi_int
	case silPoll:
		le.PutUint32(b[28:], u32(16)) // ssi_band
		le.PutUint32(b[20:], u32(24)) // ssi_fd
	case silFault:
		le.PutUint64(b[72:], u64(16)) // ssi_addr
	case silChld:
		le.PutUint32(b[12:], u32(16)) // ssi_pid
		le.PutUint32(b[16:], u32(20)) // ssi_uid
		le.PutUint32(b[40:], u32(24)) // ssi_status
		le.PutUint64(b[56:], u64(32)) // ssi_utime
		le.PutUint64(b[64:], u64(40)) // ssi_stime
	case silRT:
		le.PutUint32(b[12:], u32(16)) // ssi_pid
		le.PutUint32(b[16:], u32(20)) // ssi_uid
		le.PutUint64(b[48:], u64(24)) // ssi_ptr
		le.PutUint32(b[44:], u32(24)) // ssi_int
	case silSys:
		le.PutUint64(b[88:], u64(16)) // ssi_call_addr
		le.PutUint32(b[84:], u32(24)) // ssi_syscall
		le.PutUint32(b[96:], u32(28)) // ssi_arch
	}
	return b
}

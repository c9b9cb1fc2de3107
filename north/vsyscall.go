package north

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// The legacy vsyscall page as Linux's default (CONFIG_LEGACY_VSYSCALL_XONLY,
// vsyscall=xonly) keeps it: old static programs call gettimeofday, time
// and getcpu at fixed addresses in it. Nothing is readable there; an
// instruction fetch at one of the three entries faults and the kernel
// makes the call and a RET on the application's behalf
// (arch/x86/entry/vsyscall/vsyscall_64.c, emulate_vsyscall).

// vsyscallPage is the page's address (VSYSCALL_ADDR).
const vsyscallPage = 0xffff_ffff_ff60_0000

// The page-fault error code bits emulate_vsyscall looks at (AMD APM vol. 2,
// 8.4.2).
const (
	pfWrite = 1 << 1
	pfUser  = 1 << 2
	pfFetch = 1 << 4
)

// emulateVsyscall serves the page fault in t.regs if it is an instruction
// fetch in the vsyscall page and reports whether it was: the call's result
// in RAX and the return taken, or a SIGSEGV forced as Linux forces it.
func (t *Task) emulateVsyscall() bool {
	r := t.regs
	f := &r.Frame
	if r.ErrCode&pfFetch == 0 || r.Addr&^0xfff != vsyscallPage || r.Addr != f.RIP {
		return false
	}
	segv := sigInfo{signo: linux.SigSegv, code: linux.SiKernel}
	var call func(*Task, *[6]uint64) int64
	a := [6]uint64{f.RDI, f.RSI}
	// write_ok_or_segv: an output pointer past user memory is a SIGSEGV
	// as a write fault on it would be.
	writable := func(p, n uint64) bool {
		if n <= taskSizeMax && p <= taskSizeMax-n {
			return true
		}
		t.trapSignal(sigInfo{signo: linux.SigSegv, code: linux.SegvMaperr, addr: p, trapno: 14, errcode: pfUser | pfWrite})
		return false
	}
	caller, err := mem.ReadUint64(t.p.m, f.RSP)
	switch {
	case r.Addr == vsyscallPage && err == nil:
		call = sysGettimeofday
		if !writable(a[0], 16) || !writable(a[1], 8) {
			return true
		}
	case r.Addr == vsyscallPage+0x400 && err == nil:
		call = sysTime
		if !writable(a[0], 8) {
			return true
		}
	case r.Addr == vsyscallPage+0x800 && err == nil:
		call = sysGetcpu
		if !writable(a[0], 4) || !writable(a[1], 4) {
			return true
		}
		f.RDX = 0 // the getcpu cache argument is not the caller's
	default:
		// Not an entry ("misaligned vsyscall"), or no return address
		// ("vsyscall with bad stack").
		t.forceSignal(segv)
		return true
	}
	ret := call(t, &a)
	if ret == -linux.EFAULT {
		// A bad pointer inside user memory: the call's fault raised no
		// signal, so Linux forces one.
		t.forceSignal(segv)
		return true
	}
	f.RAX = uint64(ret)
	f.RIP = caller
	f.RSP += 8
	return true
}

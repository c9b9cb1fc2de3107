package kernel

// Signal bookkeeping for the kernel's runtime: it installs handlers and
// masks at start-up and per thread, but no signal is ever delivered to it.
// Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// sigactions holds each signal's struct kernel_sigaction (handler, flags,
// restorer, mask: four 64-bit words; arch/x86/include/uapi/asm/signal.h).
var sigactions [linux.NSig + 1][4]uint64

//go:nosplit
func sysRtSigaction(sig uint64, act, oact uintptr, size uint64) int64 {
	if size != linux.SigSetSize || sig < 1 || sig > linux.NSig {
		return -linux.EINVAL
	}
	if act != 0 && (sig == linux.SigKill || sig == linux.SigStop) {
		return -linux.EINVAL
	}
	if act != 0 && !accessible(act, 32, false) || oact != 0 && !accessible(oact, 32, true) {
		return -linux.EFAULT
	}
	old := sigactions[sig]
	if act != 0 {
		for i := range sigactions[sig] {
			sigactions[sig][i] = *cpu.Ptr64(act + uintptr(i)*8)
		}
	}
	if oact != 0 {
		for i, v := range old {
			*cpu.Ptr64(oact + uintptr(i)*8) = v
		}
	}
	return 0
}

//go:nosplit
func sysRtSigprocmask(how uint64, set, oset uintptr, size uint64) int64 {
	const sigBlock, sigUnblock, sigSetmask = 0, 1, 2
	if size != linux.SigSetSize || how > sigSetmask {
		return -linux.EINVAL
	}
	cur := threads.Cur()
	var mask uint64
	if set != 0 {
		m, ok := get64(set)
		if !ok {
			return -linux.EFAULT
		}
		mask = m
	}
	if oset != 0 && !put64(oset, cur.SigMask) {
		return -linux.EFAULT
	}
	if set != 0 {
		switch how {
		case sigBlock:
			cur.SigMask |= mask
		case sigUnblock:
			cur.SigMask &^= mask
		case sigSetmask:
			cur.SigMask = mask
		}
		cur.SigMask &^= 1<<(linux.SigKill-1) | 1<<(linux.SigStop-1)
	}
	return 0
}

// sysSigaltstack records the alternate stack (stack_t: ss_sp, ss_flags,
// ss_size; include/uapi/asm-generic/signal.h).
//
//go:nosplit
func sysSigaltstack(ss, oss uintptr) int64 {
	cur := threads.Cur()
	if ss != 0 && !accessible(ss, 24, false) || oss != 0 && !accessible(oss, 24, true) {
		return -linux.EFAULT
	}
	old := cur.SigAltStack
	if old[1] == 0 && old[0] == 0 {
		old[1] = linux.SSDisable
	}
	if ss != 0 {
		flags := *cpu.Ptr64(ss + 8) & 0xffffffff
		if flags&^linux.SSDisable != 0 {
			return -linux.EINVAL
		}
		cur.SigAltStack[0] = *cpu.Ptr64(ss)
		cur.SigAltStack[1] = flags
		cur.SigAltStack[2] = *cpu.Ptr64(ss + 16)
	}
	if oss != 0 {
		*cpu.Ptr64(oss) = old[0]
		*cpu.Ptr64(oss + 8) = old[1]
		*cpu.Ptr64(oss + 16) = old[2]
	}
	return 0
}

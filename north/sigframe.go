package north

import (
	"errors"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/sigframe"
)

// Signal frames: north/sigframe builds and reads Linux's x86-64
// rt_sigframe; this file converts between it and the task's registers.

// fpu describes this machine's extended-state format for sigframe.
func fpu() sigframe.FPU {
	mxcsrMaskOnce.Do(func() { mxcsrMask = kernel.MXCSRMask() })
	return sigframe.FPU{XSave: kernel.XSAVE(), Size: kernel.FPStateSize(), Features: kernel.XCR0(), MXCSRMask: mxcsrMask}
}

// MinSigStackSize is AT_MINSIGSTKSZ: the most stack a signal frame takes
// on this machine (sigframe.MinSigStackSize).
func MinSigStackSize() uint64 { return sigframe.MinSigStackSize(fpu()) }

// mxcsrMask is the processor's MXCSR_MASK, read once.
var (
	mxcsrMaskOnce sync.Once
	mxcsrMask     uint32
)

// sigRegs returns the thread's registers as a signal frame records them.
func (t *Task) sigRegs() sigframe.Regs {
	r := t.regs
	f := &r.Frame
	cs, ss := uint64(sigframe.UserCS), uint64(sigframe.UserSS)
	if t.retSel != ([2]uint16{}) {
		cs, ss = uint64(t.retSel[0]), uint64(t.retSel[1])
	}
	return sigframe.Regs{
		R15: f.R15, R14: f.R14, R13: f.R13, R12: f.R12, R11: f.R11, R10: f.R10, R9: f.R9, R8: f.R8,
		RBP: f.RBP, RDI: f.RDI, RSI: f.RSI, RDX: f.RDX, RCX: f.RCX, RBX: f.RBX, RAX: f.RAX,
		RIP: f.RIP, RFLAGS: f.RFLAGS, RSP: f.RSP, CS: cs, SS: ss, FSBase: r.FSBase,
	}
}

// setSigRegs installs registers from a signal frame: a handler's, or
// what rt_sigreturn restores, whose selectors may not be the user ones
// (retSel).
func (t *Task) setSigRegs(s sigframe.Regs) {
	r := t.regs
	f := &r.Frame
	f.R15, f.R14, f.R13, f.R12, f.R11, f.R10, f.R9, f.R8 = s.R15, s.R14, s.R13, s.R12, s.R11, s.R10, s.R9, s.R8
	f.RBP, f.RDI, f.RSI, f.RDX, f.RCX, f.RBX, f.RAX = s.RBP, s.RDI, s.RSI, s.RDX, s.RCX, s.RBX, s.RAX
	f.RIP, f.RFLAGS, f.RSP = s.RIP, s.RFLAGS, s.RSP
	r.FSBase = s.FSBase
	t.retSel = [2]uint16{}
	if s.CS != sigframe.UserCS || s.SS != sigframe.UserSS {
		t.retSel = [2]uint16{uint16(s.CS), uint16(s.SS)}
	}
}

// returnFault raises, before the thread returns to user mode, the #GP
// of Linux's IRETQ to selectors rt_sigreturn restored (sigframe.ReturnFault):
// a SIGSEGV, trapno 13, the selector as error code, for a context that
// keeps them; the handler's frame records them and the handler runs with
// the user ones. (The kernel raises the #GP of a RIP that is not
// canonical itself, at the return.) It reports whether it did.
func (t *Task) returnFault() bool {
	if t.retSel == ([2]uint16{}) {
		return false
	}
	gp, code := sigframe.ReturnFault(t.sigRegs())
	if !gp { // (setSigRegs keeps only selectors that fault)
		t.retSel = [2]uint16{}
		return false
	}
	t.trapSignal(sigInfo{signo: linux.SigSegv, code: linux.SiKernel, trapno: 13, errcode: code})
	return true
}

// setupFrame builds the signal frame for info on the thread's stack (or
// its alternate stack) and points the thread at the handler.
func (t *Task) setupFrame(info sigInfo, act sigAction) error {
	if act.flags&linux.SaRestorer == 0 {
		return errors.New("handler without SA_RESTORER") // x86-64 requires one
	}
	r := t.regs
	mask := t.sigMask
	if t.maskSaved {
		mask = t.savedMask
	}
	d := &sigframe.Delivery{
		Info:     t.siginfo(info),
		Mask:     mask,
		Handler:  act.handler,
		Restorer: act.restorer,
		Flags:    act.flags,
		AltStack: sigframe.AltStack{SP: t.altStack.sp, Flags: t.altStack.flags, Size: t.altStack.size},
		Fault:    sigframe.Fault{Trapno: t.lastTrap.nr, Err: t.lastTrap.err, CR2: t.lastTrap.cr2},
		FPU:      fpu(),
		FPState:  r.FPState(),
	}
	pl, regs, err := sigframe.Build(t.p.m, t.sigRegs(), d)
	if err != nil {
		return err
	}
	t.setSigRegs(regs)
	t.maskSaved = false // the frame has it (d.Mask); rt_sigreturn restores it
	t.sigMask |= act.mask
	if act.flags&linux.SaNodefer == 0 {
		t.sigMask |= bit(info.signo)
	}
	t.sigMask &^= unblockable
	if pl.OnAltStack && t.altStack.flags&linux.SSAutodisarm != 0 {
		t.altStack = stack{flags: linux.SSDisable}
	}
	return nil
}

// sysRtSigreturn restores the registers, mask, alternate stack and FP
// state saved in the frame the handler returns through; a bad frame is
// a SIGSEGV, as on Linux.
func sysRtSigreturn(t *Task, a *[6]uint64) int64 {
	r := t.regs
	sp := r.Frame.RSP // the frame's, on the alternate stack if the handler ran there
	ctx, err := sigframe.Restore(t.p.m, t.sigRegs(), fpu())
	if err != nil {
		// Linux's badframe: signal_fault forces SIGSEGV, which a
		// handler the application installed still catches; the call
		// returns 0 (arch/x86/kernel/signal_64.c, rt_sigreturn). A bad
		// fpstate is found after the mask and the registers are
		// installed, and leaves the FPU in its initial state.
		if ctx.Loaded {
			t.sigMask = ctx.Mask &^ unblockable
			t.setSigRegs(ctx.Regs)
			resetFP(r)
		}
		t.forceSignal(sigInfo{signo: linux.SigSegv, code: linux.SiKernel})
		return 0
	}
	t.setSigRegs(ctx.Regs)
	if ctx.FPState != nil {
		copy(r.FPState(), ctx.FPState)
	} else {
		resetFP(r)
	}
	t.sigMask = ctx.Mask &^ unblockable
	// restore_altstack (kernel/signal.c) applies the frame's uc_stack
	// through do_sigaltstack and ignores its errors (only a fault reading
	// the frame fails the call, and Restore has read it): a bad uc_stack,
	// or any change from a handler that ran on the (not auto-disarmed)
	// alternate stack, leaves the alternate stack as it is. Linux 6.18
	// checks the stack pointer of the frame, not the restored one
	// (north/testdata/sigretstack, "handler on A" cases).
	as := ctx.AltStack
	t.setAltStack(stack{sp: as.SP, flags: as.Flags, size: as.Size}, sp)
	return noReturn
}

// resetFP puts the extended state of r in its initial state.
func resetFP(r *kernel.UserRegs) {
	clear(r.FPState())
	fresh := kernel.NewUserRegs()
	copy(r.FPState(), fresh.FPState())
}

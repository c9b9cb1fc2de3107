package sigframe

import (
	"encoding/binary"
	"fmt"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// userAddrLimit is the end of the lower canonical half and
// kernelAddrStart the start of the upper one (48-bit virtual addresses,
// AMD APM vol. 2, 5.3.1): a RIP between them is not canonical.
const (
	userAddrLimit   = 1 << 47
	kernelAddrStart = 0xffff_8000_0000_0000
)

// taskSizeMax is Linux's TASK_SIZE_MAX on x86-64 with 4-level paging: the
// lower half less its last page (arch/x86/include/asm/page_64_types.h);
// access_ok refuses a range reaching past it.
const taskSizeMax = userAddrLimit - 4096

// unblockable are SIGKILL and SIGSTOP, which no mask may block
// (sigdelsetmask in rt_sigreturn, arch/x86/kernel/signal_64.c).
const unblockable = 1<<(linux.SigKill-1) | 1<<(linux.SigStop-1)

// defaultMXCSRMask is the MXCSR_MASK of processors that report zero
// (Intel SDM vol. 1, 11.6.6): every bit but DAZ.
const defaultMXCSRMask = 0xffbf

// mxcsrMask is the processor's MXCSR_MASK, or the default one for a
// processor that reports zero.
func (f FPU) mxcsrMask() uint32 {
	if f.MXCSRMask == 0 {
		return defaultMXCSRMask
	}
	return f.MXCSRMask
}

// Context is the state rt_sigreturn resumes.
type Context struct {
	// Regs are the registers to resume with, RAX included: rt_sigreturn
	// returns the restored RAX, so the caller must not overwrite it with
	// a system-call result.
	Regs Regs
	// FPState is the extended state to load, FPU.Size bytes in the
	// machine's format, already made safe for FXRSTOR/XRSTOR; nil when
	// the frame has none (fpstate NULL), meaning reset the FPU to its
	// initial state.
	FPState []byte
	// Mask is the blocked-signal set to install (never SIGKILL or
	// SIGSTOP).
	Mask uint64
	// AltStack is uc_stack; Linux re-registers it as sigaltstack(2)
	// would, ignoring any error but a fault (restore_altstack in
	// kernel/signal.c).
	AltStack AltStack
	// Loaded, with an error, says Linux had installed Regs and Mask
	// before it found the fault: its rt_sigreturn sets the mask and the
	// registers from the frame before fpu__restore_sig reads the
	// extended state, which on failure resets the FPU to its initial
	// state (arch/x86/kernel/signal_64.c, arch/x86/kernel/fpu/signal.c).
	// The caller installs them, resets the FPU and then forces the
	// SIGSEGV of badframe.
	Loaded bool
}

// Restore reads the signal frame a handler returns through: cur are the
// registers at the rt_sigreturn system call, whose RSP points just past
// the frame's pretcode (the handler's RET popped it), i.e. at the
// ucontext. Everything in the frame is untrusted: RFLAGS takes only the
// bits a program may change (UserFlags); CS and SS are taken with RPL 3
// as restore_sigcontext (arch/x86/kernel/signal_64.c) takes them, and an
// SS that is not the user one becomes it under the user CS when the
// frame lacks UC_STRICT_RESTORE_SS (force_valid_ss); the caller checks
// them, and RIP, as Linux's IRETQ to user mode does (ReturnFault).
// Extended state that would make Linux's FXRSTOR or XRSTOR from the frame
// fault is refused with ErrBadFrame (and Context.Loaded). The FS and GS
// bases are kept from cur.
func Restore(m mem.Memory, cur Regs, fpu FPU) (Context, error) {
	if err := fpu.check(); err != nil {
		return Context{}, err
	}
	var uc [ucSize]byte
	if err := m.CopyIn(cur.RSP, uc[:]); err != nil {
		return Context{}, err
	}
	le := binary.LittleEndian
	sc := uc[ucMcontext:]
	r := Regs{
		R8: le.Uint64(sc[scR8:]), R9: le.Uint64(sc[scR9:]),
		R10: le.Uint64(sc[scR10:]), R11: le.Uint64(sc[scR11:]),
		R12: le.Uint64(sc[scR12:]), R13: le.Uint64(sc[scR13:]),
		R14: le.Uint64(sc[scR14:]), R15: le.Uint64(sc[scR15:]),
		RDI: le.Uint64(sc[scRDI:]), RSI: le.Uint64(sc[scRSI:]),
		RBP: le.Uint64(sc[scRBP:]), RBX: le.Uint64(sc[scRBX:]),
		RDX: le.Uint64(sc[scRDX:]), RAX: le.Uint64(sc[scRAX:]),
		RCX: le.Uint64(sc[scRCX:]), RSP: le.Uint64(sc[scRSP:]),
		RIP:    le.Uint64(sc[scRIP:]),
		RFLAGS: cur.RFLAGS&^UserFlags | le.Uint64(sc[scEflags:])&UserFlags | flagReserved | flagIF,
		CS:     uint64(le.Uint16(sc[scCS:]) | 3), SS: uint64(le.Uint16(sc[scSS:]) | 3),
		FSBase: cur.FSBase, GSBase: cur.GSBase,
	}
	ctx := Context{
		Regs: r,
		Mask: le.Uint64(uc[ucSigmask:]) &^ unblockable,
		AltStack: AltStack{
			SP:    le.Uint64(uc[ucStack+ssSP:]),
			Flags: le.Uint32(uc[ucStack+ssFlags:]),
			Size:  le.Uint64(uc[ucStack+ssSize:]),
		},
	}
	// force_valid_ss: under the 64-bit user CS, without
	// UC_STRICT_RESTORE_SS, an SS that is not a writable DPL3 data
	// segment becomes __USER_DS. Cocoon's GDT has one such segment and no
	// LDT, so any SS but the user one is replaced.
	if r.CS == UserCS && le.Uint64(uc[ucFlags:])&UCStrictRestoreSS == 0 {
		ctx.Regs.SS = UserSS
	}
	if fp := le.Uint64(sc[scFpstate:]); fp != 0 {
		st, err := restoreFP(m, fp, fpu)
		if err != nil {
			ctx.Loaded = true
			return ctx, err
		}
		ctx.FPState = st
	}
	return ctx, nil
}

// restoreFP reads the fpstate at addr as fpu__restore_sig
// (arch/x86/kernel/fpu/signal.c) does: an XSAVE area if the
// _fpx_sw_bytes and FP_XSTATE_MAGIC2 are intact and its size fits the
// machine's (check_xstate_in_sigframe), otherwise only the legacy FXSAVE
// region (the other components return to their initial state). Linux
// then loads it with XRSTOR or FXRSTOR straight from the frame, and
// anything those instructions refuse with #GP fails the call
// (ErrBadFrame; Intel SDM vol. 1, 13.8 and vol. 2, "XRSTOR", "FXRSTOR"):
// an area not aligned to 64 bytes (16 for FXRSTOR), MXCSR bits beyond
// MXCSR_MASK, XSTATE_BV bits beyond XCR0, non-zero reserved header bytes,
// or a compacted header that does not fit XCR0. What passes is returned
// in standard form, limited to the features the frame and the machine
// enable.
func restoreFP(m mem.Memory, addr uint64, fpu FPU) ([]byte, error) {
	span := uint64(FXSaveSize)
	if fpu.XSave {
		span = uint64(fpu.Size) + FPXstateMagic2Size
	}
	if addr > taskSizeMax || span > taskSizeMax-addr {
		return nil, fmt.Errorf("%w: fpstate %#x beyond user memory", mem.ErrFault, addr)
	}
	st := make([]byte, fpu.Size)
	if err := m.CopyIn(addr, st[:FXSaveSize]); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	mask := fpu.mxcsrMask()
	mxcsr := le.Uint32(st[fxMXCSR:])
	if !fpu.XSave {
		if addr%16 != 0 || mxcsr&^mask != 0 {
			return nil, fmt.Errorf("%w: FXRSTOR of fpstate %#x, MXCSR %#x, would fault", ErrBadFrame, addr, mxcsr)
		}
		return st, nil
	}

	fxOnly := true
	rfbm := uint64(xfeatureFPSSE)
	sw := st[fxSWBytes:]
	size := uint64(le.Uint32(sw[swXstateSize:]))
	if le.Uint32(sw[swMagic1:]) == FPXstateMagic1 && size >= XSaveMinSize && size <= uint64(fpu.Size) &&
		size <= uint64(le.Uint32(sw[swExtendedSize:])) {
		var magic2 [FPXstateMagic2Size]byte
		if err := m.CopyIn(addr+size, magic2[:]); err != nil {
			return nil, err
		}
		if le.Uint32(magic2[:]) == FPXstateMagic2 {
			if err := m.CopyIn(addr+FXSaveSize, st[FXSaveSize:size]); err != nil {
				return nil, err
			}
			fxOnly = false
			rfbm = le.Uint64(sw[swXfeatures:]) & fpu.Features
		}
	}
	header := st[xsaveHeader : xsaveHeader+xsaveHeaderSize]
	if fxOnly {
		if addr%16 != 0 || mxcsr&^mask != 0 {
			return nil, fmt.Errorf("%w: FXRSTOR of fpstate %#x, MXCSR %#x, would fault", ErrBadFrame, addr, mxcsr)
		}
		clear(header)
		le.PutUint64(header, xfeatureFPSSE&fpu.Features)
		return st, nil
	}
	xstateBV, xcompBV := le.Uint64(header), le.Uint64(header[8:])
	reserved := header[16:]
	if xcompBV&(1<<63) == 0 {
		reserved = header[8:] // XCOMP_BV too: standard form
	} else if xcompBV&^(1<<63)&^fpu.Features != 0 || xstateBV&^xcompBV != 0 {
		return nil, fmt.Errorf("%w: XCOMP_BV %#x with XSTATE_BV %#x", ErrBadFrame, xcompBV, xstateBV)
	}
	switch {
	case addr%64 != 0:
		return nil, fmt.Errorf("%w: XRSTOR of fpstate %#x not 64-byte aligned", ErrBadFrame, addr)
	case mxcsr&^mask != 0:
		// (XRSTOR loads MXCSR only with SSE or AVX requested, but a
		// frame asking for neither must not leave a bad one either.)
		return nil, fmt.Errorf("%w: MXCSR %#x beyond MXCSR_MASK %#x", ErrBadFrame, mxcsr, mask)
	case xstateBV&^fpu.Features != 0:
		return nil, fmt.Errorf("%w: XSTATE_BV %#x beyond XCR0 %#x", ErrBadFrame, xstateBV, fpu.Features)
	case !allZero(reserved):
		return nil, fmt.Errorf("%w: reserved XSAVE header bytes set", ErrBadFrame)
	}
	// The components Cocoon enables (x87, SSE, AVX) sit at the same
	// offsets in compacted and standard form, so a compacted area reads
	// as a standard one.
	clear(header)
	le.PutUint64(header, xstateBV&rfbm)
	return st, nil
}

// ReturnFault reports whether Linux's return to user mode with r, an
// IRETQ, raises #GP, and its error code: a CS that is not the 64-bit
// user code segment, then an SS that is not the user data segment, with
// the selector (index and TI bit; 0 for a null one), then a RIP that is
// not canonical, with 0 (AMD APM vol. 3, IRET: the checks of the return
// to an outer privilege level, in that order). Linux's fixup_bad_iret
// turns the fault into one from user mode with r as its registers
// (arch/x86/kernel/traps.c), so SIGSEGV, trapno 13, si_code SI_KERNEL.
// An SS in the LDT sends Linux's IRETQ through the espfix64 stack
// (native_irq_return_ldt, arch/x86/entry/entry_64.S), where its fault,
// whichever check failed, becomes a double fault that exc_double_fault
// turns into #GP(0).
//
// Cocoon has no 32-bit user code segment (Linux's __USER32_CS, 0x23,
// where Linux's IRETQ enters compatibility mode) and no LDT, and every
// other descriptor of its GDT fails IRETQ's checks with #GP as Linux's
// do.
func ReturnFault(r Regs) (bool, uint64) {
	const ti = 4 // the selector's table indicator: the LDT
	switch {
	case r.SS&ti != 0:
		return true, 0
	case r.CS != UserCS:
		return true, r.CS &^ 3
	case r.SS != UserSS:
		return true, r.SS &^ 3
	case r.RIP >= userAddrLimit && r.RIP < kernelAddrStart:
		return true, 0
	}
	return false, 0
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

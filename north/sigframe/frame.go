package sigframe

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// User segment selectors (kernel/cpu/layout.go), Linux's __USER_CS and
// __USER_DS: a handler always runs with them; a frame records the
// thread's, which differ only after rt_sigreturn restored others and
// before the return to user mode faulted on them (ReturnFault).
const (
	UserCS = cpu.UCode
	UserSS = cpu.UData
)

// Regs is the user register state of an application thread around a
// signal: what struct sigcontext saves, plus the FS and GS bases, which a
// signal leaves alone. The field order is fixed (general registers in the
// order of cpu.Frame, then RIP, RFLAGS, RSP, the selectors and the
// bases).
type Regs struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RBP, RDI, RSI, RDX, RCX, RBX, RAX    uint64
	RIP, RFLAGS, RSP                     uint64
	CS, SS                               uint64
	FSBase, GSBase                       uint64
}

// AltStack is a thread's sigaltstack as sigaltstack(2) registered it
// (stack_t: ss_sp, ss_flags, ss_size).
type AltStack struct {
	SP uint64
	// Flags is 0, SS_AUTODISARM or SS_DISABLE.
	Flags uint32
	Size  uint64
}

// Enabled reports whether a usable alternate stack is registered.
func (a AltStack) Enabled() bool { return a.Size != 0 && a.Flags&linux.SSDisable == 0 }

// contains reports whether sp lies on the alternate stack
// (__on_sig_stack in include/linux/sched/signal.h: the stack grows down,
// so its top belongs to it and its bottom does not).
func (a AltStack) contains(sp uint64) bool { return sp > a.SP && sp-a.SP <= a.Size }

// On reports whether sp lies on the alternate stack, as on_sig_stack in
// include/linux/sched/signal.h: never while SS_AUTODISARM is set, since
// the stack is then disarmed during handlers and may be reused.
func (a AltStack) On(sp uint64) bool {
	return a.Flags&linux.SSAutodisarm == 0 && a.contains(sp)
}

// FPU describes the machine's extended-state format.
type FPU struct {
	// XSave is true when the state is saved with XSAVE; otherwise it is
	// a 512-byte FXSAVE image.
	XSave bool
	// Size is the size of the state: FXSaveSize without XSAVE; with it,
	// the XSAVE area size for the enabled features (CPUID.(EAX=0DH,
	// ECX=0):EBX), at least XSaveMinSize.
	Size int
	// Features is XCR0, the state components in use; the frame's
	// _fpx_sw_bytes.xfeatures reports it and Restore never lets a frame
	// enable more.
	Features uint64
	// MXCSRMask is the processor's MXCSR_MASK (FXSAVE bytes 28-31); zero
	// means 0xFFBF (Intel SDM vol. 1, 11.6.6).
	MXCSRMask uint32
}

func (f FPU) check() error {
	switch {
	case !f.XSave && f.Size != FXSaveSize:
		return fmt.Errorf("sigframe: FXSAVE state of %d bytes, want %d", f.Size, FXSaveSize)
	case f.XSave && (f.Size < XSaveMinSize || f.Size > maxXSaveSize):
		return fmt.Errorf("sigframe: XSAVE state of %d bytes, want %d to %d", f.Size, XSaveMinSize, maxXSaveSize)
	}
	return nil
}

// maxXSaveSize bounds FPU.Size: more than every XSAVE layout so far
// (about 11 KiB with AMX tile data).
const maxXSaveSize = 64 << 10

// mathSize is the stack space the fpstate takes (xstate_sigframe_size in
// arch/x86/kernel/fpu/xstate.h): the state, plus FP_XSTATE_MAGIC2 after
// an XSAVE area.
func (f FPU) mathSize() uint64 {
	if f.XSave {
		return uint64(f.Size) + FPXstateMagic2Size
	}
	return uint64(f.Size)
}

// Fault is what a hardware exception leaves in struct sigcontext.
type Fault struct {
	Trapno, Err, CR2 uint64
}

// Delivery describes one signal being delivered to a handler.
type Delivery struct {
	// Info is the siginfo passed to the handler; Info.Signo is the
	// signal number passed in RDI.
	Info SigInfo
	// Mask is the blocked-signal set to restore on rt_sigreturn (the set
	// in force before delivery), bit n-1 for signal n.
	Mask uint64
	// Handler is sa_handler; Restorer is sa_restorer, where the handler
	// returns to (it must call rt_sigreturn).
	Handler, Restorer uint64
	// Flags are the handler's sa_flags; SA_ONSTACK selects the
	// alternate stack.
	Flags uint64
	// AltStack is the thread's sigaltstack.
	AltStack AltStack
	// Fault fills sigcontext's trapno, err and cr2.
	Fault Fault
	// FPU describes FPState; FPState is the thread's extended state
	// (FPU.Size bytes are used), or nil to save none (the fpstate
	// pointer is then NULL).
	FPU     FPU
	FPState []byte
}

// Errors from Build and Restore. Linux answers both with SIGSEGV.
var (
	// ErrStackOverflow: the frame would not fit on the alternate stack.
	ErrStackOverflow = errors.New("sigframe: signal frame overflows the alternate signal stack")
	// ErrBadFrame: rt_sigreturn found a frame it cannot resume.
	ErrBadFrame = errors.New("sigframe: invalid signal frame")
)

// Placement is where Build puts a frame.
type Placement struct {
	// Frame is the address of the struct rt_sigframe and the handler's
	// RSP; its pretcode is the handler's return address.
	Frame uint64
	// FPState is the address of the saved extended state (0 if none).
	FPState uint64
	// OnAltStack reports that the frame is on the alternate stack.
	OnAltStack bool
}

// Place computes where a frame for d goes when the thread's RSP is sp,
// as get_sigframe in arch/x86/kernel/signal.c: below the red zone, or at
// the top of the alternate stack when the handler has SA_ONSTACK and the
// thread is not already on it; the fpstate first, 64-byte aligned, then
// the frame with (Frame+8) % 16 == 0.
func Place(sp uint64, d *Delivery) (Placement, error) {
	nested := d.AltStack.On(sp)
	entering := false
	sp -= RedZone
	if d.Flags&linux.SaOnstack != 0 && d.AltStack.Enabled() && !d.AltStack.On(sp) {
		sp = d.AltStack.SP + d.AltStack.Size
		entering = true
	}
	var pl Placement
	if d.FPState != nil {
		sp = (sp - d.FPU.mathSize()) &^ (fpAlign - 1)
		pl.FPState = sp
	}
	pl.Frame = (sp-frameSize)&^(frameAlign-1) - 8
	if nested || entering {
		if !d.AltStack.contains(pl.Frame) {
			return Placement{}, ErrStackOverflow
		}
		pl.OnAltStack = true
	}
	return pl, nil
}

// Build writes the signal frame for d to m, for a thread interrupted with
// registers regs, and returns where it went and the registers that enter
// the handler: RDI = signal, RSI = &info, RDX = &uc, RAX = 0, RSP = the
// frame, RIP = the handler, DF, RF and TF clear (x64_setup_rt_frame and
// handle_signal in arch/x86/kernel/signal_64.c and signal.c).
//
// If the handler runs on the alternate stack and AltStack.Flags has
// SS_AUTODISARM, the caller disarms the alternate stack afterwards, as
// Linux's signal_delivered does.
func Build(m mem.Memory, regs Regs, d *Delivery) (Placement, Regs, error) {
	if d.FPState != nil {
		if err := d.FPU.check(); err != nil {
			return Placement{}, Regs{}, err
		}
		if len(d.FPState) < d.FPU.Size {
			return Placement{}, Regs{}, fmt.Errorf("sigframe: %d bytes of FPU state, want %d", len(d.FPState), d.FPU.Size)
		}
	}
	pl, err := Place(regs.RSP, d)
	if err != nil {
		return Placement{}, Regs{}, err
	}

	if d.FPState != nil {
		if err := m.CopyOut(pl.FPState, fpImage(d)); err != nil {
			return Placement{}, Regs{}, err
		}
	}

	var f [frameSize]byte
	le := binary.LittleEndian
	le.PutUint64(f[framePretcode:], d.Restorer)

	uc := f[frameUC:]
	// UC_STRICT_RESTORE_SS only for a thread in 64-bit mode, i.e. under
	// the user CS (frame_uc_flags, user_64bit_mode).
	flags := uint64(UCSigcontextSS)
	if regs.CS == UserCS {
		flags |= UCStrictRestoreSS
	}
	if d.FPState != nil && d.FPU.XSave {
		flags |= UCFPXstate
	}
	le.PutUint64(uc[ucFlags:], flags)
	le.PutUint64(uc[ucLink:], 0)
	// uc_stack records the registered alternate stack
	// (unsafe_save_altstack in include/linux/signal.h).
	le.PutUint64(uc[ucStack+ssSP:], d.AltStack.SP)
	le.PutUint32(uc[ucStack+ssFlags:], d.AltStack.Flags)
	le.PutUint64(uc[ucStack+ssSize:], d.AltStack.Size)

	sc := uc[ucMcontext:]
	for _, r := range []struct {
		off int
		v   uint64
	}{
		{scR8, regs.R8}, {scR9, regs.R9}, {scR10, regs.R10}, {scR11, regs.R11},
		{scR12, regs.R12}, {scR13, regs.R13}, {scR14, regs.R14}, {scR15, regs.R15},
		{scRDI, regs.RDI}, {scRSI, regs.RSI}, {scRBP, regs.RBP}, {scRBX, regs.RBX},
		{scRDX, regs.RDX}, {scRAX, regs.RAX}, {scRCX, regs.RCX}, {scRSP, regs.RSP},
		{scRIP, regs.RIP}, {scEflags, regs.RFLAGS},
		{scErr, d.Fault.Err}, {scTrapno, d.Fault.Trapno}, {scOldmask, d.Mask},
		{scCR2, d.Fault.CR2}, {scFpstate, pl.FPState},
	} {
		le.PutUint64(sc[r.off:], r.v)
	}
	// gs and fs are saved as 0 on x86-64 (setup_sigcontext).
	le.PutUint16(sc[scCS:], uint16(regs.CS))
	le.PutUint16(sc[scSS:], uint16(regs.SS))
	le.PutUint64(uc[ucSigmask:], d.Mask)

	info := d.Info.Marshal()
	copy(f[frameInfo:], info[:])

	if err := m.CopyOut(pl.Frame, f[:]); err != nil {
		return Placement{}, Regs{}, err
	}

	h := regs
	h.RDI = uint64(int64(d.Info.Signo))
	h.RSI = pl.Frame + frameInfo
	h.RDX = pl.Frame + frameUC
	h.RAX = 0
	h.RSP = pl.Frame
	h.RIP = d.Handler
	h.RFLAGS = regs.RFLAGS&^handlerClears | flagReserved | flagIF
	h.CS, h.SS = UserCS, UserSS
	return pl, h, nil
}

// fpImage returns the fpstate as it goes on the stack: the state with
// _fpx_sw_bytes in its software-reserved bytes and, for XSAVE, x87 and
// SSE forced on in XSTATE_BV and FP_XSTATE_MAGIC2 appended
// (save_xstate_epilog in arch/x86/kernel/fpu/signal.c).
func fpImage(d *Delivery) []byte {
	img := make([]byte, d.FPU.mathSize())
	copy(img, d.FPState[:d.FPU.Size])
	le := binary.LittleEndian
	sw := img[fxSWBytes : fxSWBytes+swSize]
	clear(sw)
	le.PutUint32(sw[swMagic1:], FPXstateMagic1)
	le.PutUint32(sw[swExtendedSize:], uint32(d.FPU.Size+FPXstateMagic2Size))
	le.PutUint64(sw[swXfeatures:], d.FPU.Features)
	le.PutUint32(sw[swXstateSize:], uint32(d.FPU.Size))
	// A processor holds no MXCSR bit beyond its MXCSR_MASK (LDMXCSR and
	// XRSTOR raise #GP for them, SDM Vol. 1 10.5.1.2), so on hardware
	// this changes nothing. An emulator may take them (QEMU's TCG
	// LDMXCSR does), and rt_sigreturn refuses them as Linux does: the
	// frame the kernel writes must be one its own sigreturn takes back.
	le.PutUint32(img[fxMXCSR:], le.Uint32(img[fxMXCSR:])&d.FPU.mxcsrMask())
	if d.FPU.XSave {
		bv := le.Uint64(img[xsaveHeader:])
		le.PutUint64(img[xsaveHeader:], bv|xfeatureFPSSE)
		le.PutUint32(img[d.FPU.Size:], FPXstateMagic2)
	}
	return img
}

// MinSigStackSize is the most stack a frame can take, alignment padding
// included, for AT_MINSIGSTKSZ: as init_sigframe_size in
// arch/x86/kernel/signal.c, the rt_sigframe, the fpstate and their
// worst-case padding, rounded up to 16 bytes. (Linux also counts the
// 112-byte i386 fsave area of 32-bit frames and the largest state any
// process could enable, so its value is a little larger.)
func MinSigStackSize(f FPU) uint64 {
	n := frameSize + (frameAlign - 1) + f.mathSize() + (fpAlign - 1)
	return (n + frameAlign - 1) &^ (frameAlign - 1)
}

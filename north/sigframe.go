package north

import (
	"encoding/binary"
	"errors"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// The x86-64 signal frame, as Linux builds it (arch/x86/kernel/signal.c,
// signal_64.c; arch/x86/include/asm/sigframe.h):
//
//	struct rt_sigframe { char *pretcode; struct ucontext uc; struct siginfo info; }
//
// followed (higher up, 64-byte aligned) by the extended FP state. Offsets
// below are from include/uapi/asm-generic/ucontext.h, arch/x86/include/
// uapi/asm/sigcontext.h (struct sigcontext, 64-bit) and include/uapi/
// asm-generic/siginfo.h.
const (
	frPretcode = 0
	frUC       = 8
	frInfo     = frUC + ucSize
	frameSize  = frInfo + siginfoSize // 440

	ucFlags    = 0
	ucLink     = 8
	ucStack    = 16 // stack_t: ss_sp, ss_flags (+pad), ss_size
	ucMcontext = 40 // struct sigcontext, 256 bytes
	ucSigmask  = 296
	ucSize     = 304

	siginfoSize = 128

	// struct sigcontext field offsets within uc_mcontext.
	scR8      = 0
	scRDI     = 64
	scRSI     = 72
	scRBP     = 80
	scRBX     = 88
	scRDX     = 96
	scRAX     = 104
	scRCX     = 112
	scRSP     = 120
	scRIP     = 128
	scEFLAGS  = 136
	scCS      = 144 // u16 cs, gs, fs, ss
	scSS      = 150
	scErr     = 152
	scTrapno  = 160
	scOldmask = 168
	scCR2     = 176
	scFPState = 184

	// uc_flags (arch/x86/include/uapi/asm/ucontext.h).
	ucFPXstate        = 0x1
	ucSigcontextSS    = 0x2
	ucStrictRestoreSS = 0x4

	// The XSAVE software-reserved bytes in the FXSAVE area (offset 464,
	// struct _fpx_sw_bytes) and their magic numbers (sigcontext.h).
	fpxSwBytes   = 464
	fpXstateMag1 = 0x46505853
	fpXstateMag2 = 0x46505845

	redZone = 128
)

// RFLAGS bits a signal handler may change through the frame (Linux
// FIX_EFLAGS: AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF).
const fixEflags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000

var errBadFrame = errors.New("bad signal frame")

// gpr lists the frame registers in struct sigcontext order, r8 .. rsp.
func gpr(r *kernel.UserRegs) []*uint64 {
	f := &r.Frame
	return []*uint64{&f.R8, &f.R9, &f.R10, &f.R11, &f.R12, &f.R13, &f.R14, &f.R15,
		&f.RDI, &f.RSI, &f.RBP, &f.RBX, &f.RDX, &f.RAX, &f.RCX, &f.RSP}
}

// setupFrame builds the signal frame for info on the thread's stack (or
// its alternate stack) and points the thread at the handler.
func (t *Task) setupFrame(info sigInfo, act sigAction) error {
	if act.flags&linux.SaRestorer == 0 {
		return errors.New("handler without SA_RESTORER") // x86-64 requires one
	}
	r := t.regs
	le := binary.LittleEndian
	sp := r.Frame.RSP - redZone
	onAlt := t.onAltStack(r.Frame.RSP)
	if act.flags&linux.SaOnstack != 0 && !onAlt && t.altStack.size != 0 && t.altStack.flags&linux.SSDisable == 0 {
		sp = t.altStack.sp + t.altStack.size
	}
	fpSize := kernel.FPStateSize()
	fp := make([]byte, fpSize+4)
	copy(fp, r.FPState()[:fpSize])
	ucf := uint64(ucSigcontextSS | ucStrictRestoreSS)
	if kernel.XSAVE() {
		ucf |= ucFPXstate
		le.PutUint32(fp[fpxSwBytes:], fpXstateMag1)
		le.PutUint32(fp[fpxSwBytes+4:], uint32(fpSize+4)) // extended_size
		le.PutUint64(fp[fpxSwBytes+8:], kernel.XCR0())    // xfeatures
		le.PutUint32(fp[fpxSwBytes+16:], uint32(fpSize))  // xstate_size
		le.PutUint32(fp[fpSize:], fpXstateMag2)
	} else {
		fp = fp[:fpSize]
	}
	fpAddr := (sp - uint64(len(fp))) &^ 63
	frame := (fpAddr-frameSize)&^15 - 8 // handler entry: (RSP+8) % 16 == 0

	var b [frameSize]byte
	le.PutUint64(b[frPretcode:], act.restorer)
	uc := b[frUC:]
	le.PutUint64(uc[ucFlags:], ucf)
	st := t.altStack
	ssFlags := uint64(st.flags)
	if st.size == 0 {
		ssFlags = linux.SSDisable
	}
	le.PutUint64(uc[ucStack:], st.sp)
	le.PutUint64(uc[ucStack+8:], ssFlags)
	le.PutUint64(uc[ucStack+16:], st.size)
	mc := uc[ucMcontext:]
	for i, p := range gpr(r) {
		le.PutUint64(mc[scR8+8*i:], *p)
	}
	le.PutUint64(mc[scRIP:], r.Frame.RIP)
	le.PutUint64(mc[scEFLAGS:], r.Frame.RFLAGS)
	le.PutUint16(mc[scCS:], 0x23)
	le.PutUint16(mc[scSS:], 0x1b)
	le.PutUint64(mc[scErr:], info.errcode)
	le.PutUint64(mc[scTrapno:], info.trapno)
	le.PutUint64(mc[scOldmask:], t.sigMask)
	le.PutUint64(mc[scCR2:], info.addr)
	le.PutUint64(mc[scFPState:], fpAddr)
	le.PutUint64(uc[ucSigmask:], t.sigMask)
	si := b[frInfo:]
	le.PutUint32(si[0:], uint32(info.signo))
	le.PutUint32(si[8:], uint32(info.code))
	switch info.signo {
	case linux.SigSegv, linux.SigBus, linux.SigIll, linux.SigFpe, linux.SigTrap:
		le.PutUint64(si[16:], info.addr) // si_addr
	default:
		le.PutUint32(si[16:], uint32(info.pid)) // si_pid, si_uid = 0
	}

	m := t.p.m
	if err := m.CopyOut(fpAddr, fp); err != nil {
		return err
	}
	if err := m.CopyOut(frame, b[:]); err != nil {
		return err
	}
	r.Frame.RSP = frame
	r.Frame.RIP = act.handler
	r.Frame.RDI = uint64(info.signo)
	r.Frame.RSI = frame + frInfo
	r.Frame.RDX = frame + frUC
	r.Frame.RAX = 0
	r.Frame.RFLAGS &^= 0x400 | 0x100 | 0x10000 // DF, TF, RF
	t.sigMask |= act.mask
	if act.flags&linux.SaNodefer == 0 {
		t.sigMask |= bit(info.signo)
	}
	t.sigMask &^= unblockable
	if act.flags&linux.SaOnstack != 0 && st.flags&linux.SSAutodisarm != 0 {
		t.altStack = stack{flags: linux.SSDisable}
	}
	return nil
}

// sysRtSigreturn restores the registers, mask and FP state saved in the
// frame the handler returns through; a corrupt frame kills the process
// with SIGSEGV, as on Linux.
func sysRtSigreturn(t *Task, a [6]uint64) int64 {
	if err := t.sigreturn(); err != nil {
		t.kill(sigInfo{signo: linux.SigSegv, code: linux.SiKernel})
	}
	return noReturn
}

func (t *Task) sigreturn() error {
	r := t.regs
	le := binary.LittleEndian
	frame := r.Frame.RSP - 8 // the handler's RET popped pretcode
	var b [ucSize]byte
	if err := t.p.m.CopyIn(frame+frUC, b[:]); err != nil {
		return err
	}
	mc := b[ucMcontext:]
	rip := le.Uint64(mc[scRIP:])
	if rip >= 1<<47 {
		return errBadFrame
	}
	fpAddr := le.Uint64(mc[scFPState:])
	if fpAddr != 0 {
		fpSize := kernel.FPStateSize()
		fp := make([]byte, fpSize)
		if err := t.p.m.CopyIn(fpAddr, fp); err != nil {
			return err
		}
		if !sanePFState(fp) {
			return errBadFrame
		}
		copy(r.FPState(), fp)
	}
	for i, p := range gpr(r) {
		*p = le.Uint64(mc[scR8+8*i:])
	}
	r.Frame.RIP = rip
	r.Frame.RFLAGS = r.Frame.RFLAGS&^fixEflags | le.Uint64(mc[scEFLAGS:])&fixEflags
	t.sigMask = le.Uint64(b[ucSigmask:]) &^ unblockable
	return nil
}

// sanePFState reports whether an FP state from application memory can be
// loaded without faulting: MXCSR within its mask, and for XSAVE a header
// that names only enabled features in the standard format (Intel SDM
// vol. 1, 13.8 "Operation of XRSTOR").
func sanePFState(fp []byte) bool {
	le := binary.LittleEndian
	mxcsr := le.Uint32(fp[24:])
	if mxcsr&^0xffff != 0 {
		return false
	}
	if !kernel.XSAVE() || len(fp) < 576 {
		return true
	}
	xstateBV, xcompBV := le.Uint64(fp[512:]), le.Uint64(fp[520:])
	if xstateBV&^kernel.XCR0() != 0 || xcompBV != 0 {
		return false
	}
	for _, c := range fp[528:576] {
		if c != 0 {
			return false
		}
	}
	return true
}

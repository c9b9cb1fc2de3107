package sigframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Offsets and sizes as the Linux headers give them (offsetof/sizeof on
// x86-64, from arch/x86/include/uapi/asm/sigcontext.h,
// include/uapi/asm-generic/ucontext.h and siginfo.h,
// arch/x86/include/asm/sigframe.h).
func TestLayoutMatchesLinuxHeaders(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"sizeof(struct rt_sigframe)", frameSize, 440},
		{"offsetof(rt_sigframe, uc)", frameUC, 8},
		{"offsetof(rt_sigframe, info)", frameInfo, 312},
		{"sizeof(struct ucontext)", ucSize, 304},
		{"offsetof(ucontext, uc_stack)", ucStack, 16},
		{"offsetof(ucontext, uc_mcontext)", ucMcontext, 40},
		{"offsetof(ucontext, uc_sigmask)", ucSigmask, 296},
		{"sizeof(stack_t)", stackTSize, 24},
		{"sizeof(struct sigcontext)", scSize, 256},
		{"offsetof(sigcontext, rip)", scRIP, 128},
		{"offsetof(sigcontext, rsp)", scRSP, 120},
		{"offsetof(sigcontext, eflags)", scEflags, 136},
		{"offsetof(sigcontext, cs)", scCS, 144},
		{"offsetof(sigcontext, ss)", scSS, 150},
		{"offsetof(sigcontext, err)", scErr, 152},
		{"offsetof(sigcontext, trapno)", scTrapno, 160},
		{"offsetof(sigcontext, oldmask)", scOldmask, 168},
		{"offsetof(sigcontext, cr2)", scCR2, 176},
		{"offsetof(sigcontext, fpstate)", scFpstate, 184},
		{"sizeof(siginfo_t)", siginfoSize, 128},
		{"offsetof(siginfo_t, si_addr)", siAddr, 16},
		{"offsetof(siginfo_t, si_pid)", siPid, 16},
		{"offsetof(siginfo_t, si_uid)", siUID, 20},
		{"offsetof(siginfo_t, si_value)", siValue, 24},
		{"offsetof(siginfo_t, si_status)", siStatus, 24},
		{"offsetof(siginfo_t, si_utime)", siUtime, 32},
		{"offsetof(siginfo_t, si_fd)", siFD, 24},
		{"offsetof(siginfo_t, si_arch)", siArch, 28},
		{"offsetof(_fpstate_64, mxcsr)", fxMXCSR, 24},
		{"offsetof(_fpstate_64, sw_reserved)", fxSWBytes, 464},
		{"sizeof(struct _fpx_sw_bytes)", swSize, 48},
		{"offsetof(_fpx_sw_bytes, xstate_size)", swXstateSize, 16},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// The general registers are consecutive words from r8 to rip.
	for i, off := range []int{scR8, scR9, scR10, scR11, scR12, scR13, scR14, scR15, scRDI, scRSI, scRBP, scRBX, scRDX, scRAX, scRCX, scRSP, scRIP, scEflags} {
		if off != 8*i {
			t.Errorf("sigcontext register %d at %d, want %d", i, off, 8*i)
		}
	}
}

// The Go runtime's view of the frame (runtime/defs_linux_amd64.go,
// pointers as uint64): its offsets must agree with ours, since it reads
// and edits the frame through these types.
type goSiginfoFields struct {
	siSigno, siErrno, siCode int32
	siAddr                   uint64
}

type goStackt struct {
	ssSP    uint64
	ssFlags int32
	_       [4]byte
	ssSize  uint64
}

type goSigcontext struct {
	r8, r9, r10, r11, r12, r13, r14, r15 uint64
	rdi, rsi, rbp, rbx, rdx, rax, rcx    uint64
	rsp, rip, eflags                     uint64
	cs, gs, fs, pad0                     uint16
	err, trapno, oldmask, cr2            uint64
	fpstate                              uint64
	reserved1                            [8]uint64
}

type goUcontext struct {
	ucFlags    uint64
	ucLink     uint64
	ucStack    goStackt
	ucMcontext goSigcontext
	ucSigmask  uint64
}

func TestGoRuntimeView(t *testing.T) {
	var uc goUcontext
	var si goSiginfoFields
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"uc_flags", unsafe.Offsetof(uc.ucFlags), ucFlags},
		{"uc_link", unsafe.Offsetof(uc.ucLink), ucLink},
		{"uc_mcontext", unsafe.Offsetof(uc.ucMcontext), ucMcontext},
		{"uc_sigmask", unsafe.Offsetof(uc.ucSigmask), ucSigmask},
		{"uc_stack.ss_sp", unsafe.Offsetof(uc.ucStack) + unsafe.Offsetof(uc.ucStack.ssSP), ucStack + ssSP},
		{"uc_stack.ss_flags", unsafe.Offsetof(uc.ucStack) + unsafe.Offsetof(uc.ucStack.ssFlags), ucStack + ssFlags},
		{"uc_stack.ss_size", unsafe.Offsetof(uc.ucStack) + unsafe.Offsetof(uc.ucStack.ssSize), ucStack + ssSize},
		{"r8", unsafe.Offsetof(uc.ucMcontext.r8), scR8},
		{"r9", unsafe.Offsetof(uc.ucMcontext.r9), scR9},
		{"r10", unsafe.Offsetof(uc.ucMcontext.r10), scR10},
		{"r11", unsafe.Offsetof(uc.ucMcontext.r11), scR11},
		{"r12", unsafe.Offsetof(uc.ucMcontext.r12), scR12},
		{"r13", unsafe.Offsetof(uc.ucMcontext.r13), scR13},
		{"r14", unsafe.Offsetof(uc.ucMcontext.r14), scR14},
		{"r15", unsafe.Offsetof(uc.ucMcontext.r15), scR15},
		{"rdi", unsafe.Offsetof(uc.ucMcontext.rdi), scRDI},
		{"rsi", unsafe.Offsetof(uc.ucMcontext.rsi), scRSI},
		{"rbp", unsafe.Offsetof(uc.ucMcontext.rbp), scRBP},
		{"rbx", unsafe.Offsetof(uc.ucMcontext.rbx), scRBX},
		{"rdx", unsafe.Offsetof(uc.ucMcontext.rdx), scRDX},
		{"rax", unsafe.Offsetof(uc.ucMcontext.rax), scRAX},
		{"rcx", unsafe.Offsetof(uc.ucMcontext.rcx), scRCX},
		{"rsp", unsafe.Offsetof(uc.ucMcontext.rsp), scRSP},
		{"rip", unsafe.Offsetof(uc.ucMcontext.rip), scRIP},
		{"eflags", unsafe.Offsetof(uc.ucMcontext.eflags), scEflags},
		{"cs", unsafe.Offsetof(uc.ucMcontext.cs), scCS},
		{"gs", unsafe.Offsetof(uc.ucMcontext.gs), scGS},
		{"fs", unsafe.Offsetof(uc.ucMcontext.fs), scFS},
		{"__pad0 (ss)", unsafe.Offsetof(uc.ucMcontext.pad0), scSS},
		{"err", unsafe.Offsetof(uc.ucMcontext.err), scErr},
		{"trapno", unsafe.Offsetof(uc.ucMcontext.trapno), scTrapno},
		{"oldmask", unsafe.Offsetof(uc.ucMcontext.oldmask), scOldmask},
		{"cr2", unsafe.Offsetof(uc.ucMcontext.cr2), scCR2},
		{"fpstate", unsafe.Offsetof(uc.ucMcontext.fpstate), scFpstate},
		{"__reserved1", unsafe.Offsetof(uc.ucMcontext.reserved1), scSize - 64},
		{"sizeof(sigcontext)", unsafe.Sizeof(uc.ucMcontext), scSize},
		{"si_signo", unsafe.Offsetof(si.siSigno), siSigno},
		{"si_errno", unsafe.Offsetof(si.siErrno), siErrno},
		{"si_code", unsafe.Offsetof(si.siCode), siCode},
		{"si_addr", unsafe.Offsetof(si.siAddr), siAddr},
	} {
		if c.got != c.want {
			t.Errorf("runtime offset of %s = %d, ours %d", c.name, c.got, c.want)
		}
	}
}

// TestGoRuntimeSigpanic plays the Go runtime's part for a nil
// dereference: the handler reads si_code, si_addr, RIP and RSP, then
// injects a call to sigpanic (sigctxt.pushCall: push RIP, set RIP) and
// returns; rt_sigreturn must resume exactly there.
func TestGoRuntimeSigpanic(t *testing.T) {
	m := mem.NewFake(0x7000_0000, 1<<20)
	top := uint64(0x7000_0000 + 1<<20)
	regs := testRegs()
	regs.RSP = top - 0x8000
	alt := AltStack{SP: 0x7000_0000, Size: 32 << 10}
	d := &Delivery{
		Info:     SigInfo{Signo: linux.SigSegv, Code: linux.SegvMaperr, Addr: 0x8},
		Handler:  0x46_1000,
		Restorer: 0x46_2000,
		Flags:    linux.SaSiginfo | linux.SaOnstack | linux.SaRestorer,
		AltStack: alt,
		Fault:    Fault{Trapno: 14, Err: 4, CR2: 0x8},
	}
	pl, h, err := Build(m, regs, d)
	if err != nil {
		t.Fatalf("Build = %v", err)
	}
	if !pl.OnAltStack || !alt.contains(h.RSP) {
		t.Fatalf("frame at %#x not on the alternate stack %#x+%#x", h.RSP, alt.SP, alt.Size)
	}
	// The runtime's sigtramp gets (sig, info, ctx) in RDI, RSI, RDX.
	if h.RDI != linux.SigSegv {
		t.Errorf("RDI = %d, want SIGSEGV", h.RDI)
	}
	code, _ := mem.ReadUint32(m, h.RSI+siCode)
	addr, _ := mem.ReadUint64(m, h.RSI+siAddr)
	if code != linux.SegvMaperr || addr != 0x8 {
		t.Errorf("siginfo code %d addr %#x, want SEGV_MAPERR 0x8", code, addr)
	}
	mc := h.RDX + ucMcontext
	rip, _ := mem.ReadUint64(m, mc+scRIP)
	rsp, _ := mem.ReadUint64(m, mc+scRSP)
	if rip != regs.RIP || rsp != regs.RSP {
		t.Fatalf("saved rip %#x rsp %#x, want %#x %#x", rip, rsp, regs.RIP, regs.RSP)
	}
	const sigpanic = 0x43_2100
	rsp -= 8
	if err := mem.WriteUint64(m, rsp, rip); err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteUint64(m, mc+scRSP, rsp); err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteUint64(m, mc+scRIP, sigpanic); err != nil {
		t.Fatal(err)
	}

	// The handler returns: RET pops pretcode into RIP, then the restorer
	// makes the rt_sigreturn system call.
	ret, _ := mem.ReadUint64(m, h.RSP)
	if ret != d.Restorer {
		t.Errorf("pretcode = %#x, want sa_restorer %#x", ret, d.Restorer)
	}
	cur := h
	cur.RSP += 8
	cur.RIP = ret
	ctx, err := Restore(m, cur, FPU{Size: FXSaveSize})
	if err != nil {
		t.Fatalf("Restore = %v", err)
	}
	want := regs
	want.RIP, want.RSP = sigpanic, regs.RSP-8
	if ctx.Regs != want {
		t.Errorf("Restore regs = %+v\nwant %+v", ctx.Regs, want)
	}
	if got, _ := mem.ReadUint64(m, want.RSP); got != regs.RIP {
		t.Errorf("sigpanic's return address = %#x, want the faulting RIP %#x", got, regs.RIP)
	}
}

func testRegs() Regs {
	return Regs{
		R15: 15, R14: 14, R13: 13, R12: 12, R11: 11, R10: 10, R9: 9, R8: 8,
		RBP: 0xb0, RDI: 0xd1, RSI: 0x51, RDX: 0xd0, RCX: 0xc0, RBX: 0xb1, RAX: 0xa0,
		RIP: 0x40_1234, RFLAGS: 0x202 | flagDF | flagCF, RSP: 0x7fff_0000_8000,
		CS: UserCS, SS: UserSS, FSBase: 0xf5f5_0000, GSBase: 0x6565_0000,
	}
}

// xsaveFPU is an XSAVE machine with x87, SSE and AVX (XCR0 = 7), whose
// XSAVE area is 832 bytes (CPUID.(EAX=0DH,ECX=0):EBX on such CPUs).
var xsaveFPU = FPU{XSave: true, Size: 832, Features: 7, MXCSRMask: 0xffff}

func testFPState(f FPU) []byte {
	st := make([]byte, f.Size)
	for i := range st {
		st[i] = byte(i * 7)
	}
	le := binary.LittleEndian
	le.PutUint16(st[0:], 0x37f)
	le.PutUint32(st[fxMXCSR:], 0x1f80)
	le.PutUint32(st[fxMXCSRMask:], 0xffff)
	if f.XSave {
		clear(st[xsaveHeader : xsaveHeader+xsaveHeaderSize])
		le.PutUint64(st[xsaveHeader:], 0x4) // only AVX dirty: Build adds x87/SSE
	}
	return st
}

func TestRoundTrip(t *testing.T) {
	for _, fpu := range []FPU{{Size: FXSaveSize, Features: 3}, xsaveFPU} {
		m := mem.NewFake(0x7fff_0000_0000, 1<<16)
		regs := testRegs()
		fp := testFPState(fpu)
		d := &Delivery{
			Info:     SigInfo{Signo: linux.SigUsr1, Code: linux.SiTkill, Pid: 1, UID: 0},
			Mask:     1<<(linux.SigUsr2-1) | 1<<(linux.SigKill-1),
			Handler:  0x40_5000,
			Restorer: 0x40_6000,
			FPU:      fpu,
			FPState:  fp,
		}
		pl, h, err := Build(m, regs, d)
		if err != nil {
			t.Fatalf("Build(%+v) = %v", fpu, err)
		}
		want := regs
		want.RDI, want.RSI, want.RDX, want.RAX = linux.SigUsr1, pl.Frame+frameInfo, pl.Frame+frameUC, 0
		want.RSP, want.RIP, want.RFLAGS = pl.Frame, d.Handler, 0x202|flagCF
		if h != want {
			t.Errorf("handler regs = %+v\nwant %+v", h, want)
		}
		if pl.OnAltStack {
			t.Errorf("frame on the alternate stack without SA_ONSTACK")
		}
		cur := h
		cur.RSP += 8
		cur.RAX = linux.SysRtSigreturn
		cur.FSBase = 0x1111 // a new FS base set by the handler stays
		ctx, err := Restore(m, cur, fpu)
		if err != nil {
			t.Fatalf("Restore = %v", err)
		}
		wantRegs := regs
		wantRegs.FSBase = 0x1111
		if ctx.Regs != wantRegs {
			t.Errorf("Restore regs = %+v\nwant %+v", ctx.Regs, wantRegs)
		}
		if ctx.Mask != 1<<(linux.SigUsr2-1) {
			t.Errorf("Restore mask = %#x, want SIGUSR2 only (SIGKILL dropped)", ctx.Mask)
		}
		if ctx.AltStack != (AltStack{}) {
			t.Errorf("Restore altstack = %+v, want none", ctx.AltStack)
		}
		wantFP := bytes.Clone(fp)
		if fpu.XSave {
			binary.LittleEndian.PutUint64(wantFP[xsaveHeader:], 0x7)
		}
		// The software-reserved bytes now carry _fpx_sw_bytes; XRSTOR
		// ignores them.
		copy(wantFP[fxSWBytes:FXSaveSize], ctx.FPState[fxSWBytes:FXSaveSize])
		if !bytes.Equal(ctx.FPState, wantFP) {
			t.Errorf("Restore FP state differs from the saved one (XSAVE %v)", fpu.XSave)
		}
	}
}

// TestFPStateImage checks the fpstate written to the stack against
// save_xstate_epilog: _fpx_sw_bytes, XSTATE_BV with x87 and SSE, magic2.
func TestFPStateImage(t *testing.T) {
	m := mem.NewFake(0x10000, 1<<16)
	regs := Regs{RSP: 0x20000, RIP: 0x401000, CS: UserCS, SS: UserSS}
	d := &Delivery{Info: SigInfo{Signo: linux.SigUsr1}, FPU: xsaveFPU, FPState: testFPState(xsaveFPU)}
	pl, _, err := Build(m, regs, d)
	if err != nil {
		t.Fatal(err)
	}
	rd32 := func(a uint64) uint32 { v, _ := mem.ReadUint32(m, a); return v }
	rd64 := func(a uint64) uint64 { v, _ := mem.ReadUint64(m, a); return v }
	sw := pl.FPState + fxSWBytes
	if rd32(sw+swMagic1) != FPXstateMagic1 || rd32(sw+swExtendedSize) != 836 || rd64(sw+swXfeatures) != 7 || rd32(sw+swXstateSize) != 832 {
		t.Errorf("sw bytes = magic1 %#x ext %d xfeatures %#x size %d", rd32(sw+swMagic1), rd32(sw+swExtendedSize), rd64(sw+swXfeatures), rd32(sw+swXstateSize))
	}
	if rd32(pl.FPState+832) != FPXstateMagic2 {
		t.Errorf("no FP_XSTATE_MAGIC2 after the XSAVE area")
	}
	if rd64(pl.FPState+xsaveHeader) != 0x7 {
		t.Errorf("XSTATE_BV = %#x, want 0x7", rd64(pl.FPState+xsaveHeader))
	}
	if flags := rd64(pl.Frame + frameUC + ucFlags); flags != UCFPXstate|UCSigcontextSS|UCStrictRestoreSS {
		t.Errorf("uc_flags = %#x, want 7", flags)
	}
	if fp := rd64(pl.Frame + frameUC + ucMcontext + scFpstate); fp != pl.FPState {
		t.Errorf("sigcontext.fpstate = %#x, want %#x", fp, pl.FPState)
	}
	if pl.FPState+836 > regs.RSP-RedZone || pl.Frame+frameSize > pl.FPState {
		t.Errorf("frame %#x and fpstate %#x overlap each other or the red zone below %#x", pl.Frame, pl.FPState, regs.RSP)
	}

	// Without FP state the pointer is NULL and Restore resets the FPU.
	d.FPState = nil
	pl, h, err := Build(m, regs, d)
	if err != nil {
		t.Fatal(err)
	}
	if rd64(pl.Frame+frameUC+ucMcontext+scFpstate) != 0 || rd64(pl.Frame+frameUC+ucFlags) != UCSigcontextSS|UCStrictRestoreSS {
		t.Errorf("frame without FP state: fpstate %#x uc_flags %#x", rd64(pl.Frame+frameUC+ucMcontext+scFpstate), rd64(pl.Frame+frameUC+ucFlags))
	}
	h.RSP += 8
	ctx, err := Restore(m, h, xsaveFPU)
	if err != nil || ctx.FPState != nil {
		t.Errorf("Restore without FP state = %v, FPState %d bytes, want nil", err, len(ctx.FPState))
	}

	// A thread whose rt_sigreturn restored a bad CS and SS (its return
	// to user mode faulted): the frame records them, without
	// UC_STRICT_RESTORE_SS since the thread is not in 64-bit mode, and
	// the handler runs with the user selectors.
	regs.CS, regs.SS = 0x13, 0xfff3
	pl, h, err = Build(m, regs, d)
	if err != nil {
		t.Fatal(err)
	}
	sc := pl.Frame + frameUC + ucMcontext
	rd16 := func(a uint64) uint16 { return uint16(rd32(a)) }
	if rd16(sc+scCS) != 0x13 || rd16(sc+scSS) != 0xfff3 || rd64(pl.Frame+frameUC+ucFlags) != UCSigcontextSS || h.CS != UserCS || h.SS != UserSS {
		t.Errorf("bad selectors: frame CS %#x SS %#x uc_flags %#x, handler CS %#x SS %#x", rd16(sc+scCS), rd16(sc+scSS), rd64(pl.Frame+frameUC+ucFlags), h.CS, h.SS)
	}
	h.RSP += 8
	if ctx, err := Restore(m, h, xsaveFPU); err != nil || ctx.Regs.CS != 0x13 || ctx.Regs.SS != 0xfff3 {
		t.Errorf("Restore of it = %v, CS %#x SS %#x", err, ctx.Regs.CS, ctx.Regs.SS)
	}
}

// TestEmulatedMXCSRRoundTrip: an emulator lets LDMXCSR set bits beyond
// MXCSR_MASK (QEMU's TCG does; hardware raises #GP), and rt_sigreturn
// refuses such bits. The frame the kernel writes for the live state must
// still be one its sigreturn takes back: the bits are dropped in it.
func TestEmulatedMXCSRRoundTrip(t *testing.T) {
	for _, fpu := range []FPU{{Size: FXSaveSize, Features: 3, MXCSRMask: 0xffff}, xsaveFPU} {
		m := mem.NewFake(0x7fff_0000_0000, 1<<16)
		fp := testFPState(fpu)
		const live = 0xdead_1f80 // default MXCSR with bits 16-31 set
		binary.LittleEndian.PutUint32(fp[fxMXCSR:], live)
		d := &Delivery{Info: SigInfo{Signo: linux.SigIll}, Handler: 0x40_5000, Restorer: 0x40_6000, FPU: fpu, FPState: fp}
		_, h, err := Build(m, testRegs(), d)
		if err != nil {
			t.Fatalf("Build(%+v) = %v", fpu, err)
		}
		h.RSP += 8
		ctx, err := Restore(m, h, fpu)
		if err != nil {
			t.Fatalf("Restore of the kernel's own frame (XSAVE %v, live MXCSR %#x) = %v", fpu.XSave, uint32(live), err)
		}
		if got, want := binary.LittleEndian.Uint32(ctx.FPState[fxMXCSR:]), uint32(live)&fpu.mxcsrMask(); got != want {
			t.Errorf("restored MXCSR = %#x, want %#x", got, want)
		}
	}
}

func TestPlacementAlignment(t *testing.T) {
	for _, fpu := range []FPU{{Size: FXSaveSize}, xsaveFPU, {XSave: true, Size: 2696}} {
		for sp := uint64(0x7fff_0000_1000); sp < 0x7fff_0000_1000+64; sp++ {
			d := &Delivery{FPU: fpu, FPState: make([]byte, fpu.Size)}
			pl, err := Place(sp, d)
			if err != nil {
				t.Fatal(err)
			}
			if (pl.Frame+8)%16 != 0 {
				t.Errorf("sp %#x: frame %#x, (frame+8) %% 16 != 0", sp, pl.Frame)
			}
			if pl.FPState%64 != 0 || pl.FPState+fpu.mathSize() > sp-RedZone || pl.Frame+frameSize > pl.FPState {
				t.Errorf("sp %#x: fpstate %#x frame %#x misplaced", sp, pl.FPState, pl.Frame)
			}
			// As tight as Linux: less than 64+16 bytes of slack.
			if gap := sp - RedZone - fpu.mathSize() - frameSize - pl.Frame; gap >= 64+16 {
				t.Errorf("sp %#x: %d bytes of slack", sp, gap)
			}
			if used := sp - RedZone - pl.Frame; used > MinSigStackSize(fpu) {
				t.Errorf("sp %#x: frame uses %d bytes, more than MinSigStackSize %d", sp, used, MinSigStackSize(fpu))
			}
		}
	}
}

func TestAltStackPlacement(t *testing.T) {
	alt := AltStack{SP: 0x10_0000, Size: 0x8000}
	top := alt.SP + alt.Size
	main := uint64(0x7fff_0000_0000)
	fpu := FPU{Size: FXSaveSize}
	tests := []struct {
		name    string
		sp      uint64
		flags   uint64
		alt     AltStack
		wantAlt bool
		below   uint64 // frame must sit just below this (within 1 KiB + math)
		err     error
	}{
		{"no SA_ONSTACK", main, 0, alt, false, main - RedZone, nil},
		{"entering", main, linux.SaOnstack, alt, true, top, nil},
		{"nested", alt.SP + 0x4000, linux.SaOnstack, alt, true, alt.SP + 0x4000 - RedZone, nil},
		{"nested without SA_ONSTACK", alt.SP + 0x4000, 0, alt, true, alt.SP + 0x4000 - RedZone, nil},
		{"disabled", main, linux.SaOnstack, AltStack{Flags: linux.SSDisable}, false, main - RedZone, nil},
		{"autodisarm restarts at the top", alt.SP + 0x4000, linux.SaOnstack, AltStack{SP: alt.SP, Size: alt.Size, Flags: linux.SSAutodisarm}, true, top, nil},
		{"overflow", alt.SP + 0x300, linux.SaOnstack, alt, false, 0, ErrStackOverflow},
		{"too small", main, linux.SaOnstack, AltStack{SP: 0x10_0000, Size: 512}, false, 0, ErrStackOverflow},
	}
	for _, tt := range tests {
		d := &Delivery{Flags: tt.flags, AltStack: tt.alt, FPU: fpu, FPState: make([]byte, FXSaveSize)}
		pl, err := Place(tt.sp, d)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: Place = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if pl.OnAltStack != tt.wantAlt || pl.Frame >= tt.below || tt.below-pl.Frame > frameSize+FXSaveSize+128 {
			t.Errorf("%s: frame %#x (alt %v), want just below %#x (alt %v)", tt.name, pl.Frame, pl.OnAltStack, tt.below, tt.wantAlt)
		}
	}
}

func TestRestoreSanitises(t *testing.T) {
	m := mem.NewFake(0x10000, 1<<16)
	regs := Regs{RSP: 0x20000, RIP: 0x401000, RFLAGS: 0x202}
	d := &Delivery{Info: SigInfo{Signo: linux.SigUsr1}, FPU: xsaveFPU, FPState: testFPState(xsaveFPU)}
	pl, h, err := Build(m, regs, d)
	if err != nil {
		t.Fatal(err)
	}
	h.RSP += 8
	h.RFLAGS = 0x202
	sc := pl.Frame + frameUC + ucMcontext
	w64 := func(a, v uint64) {
		t.Helper()
		if err := mem.WriteUint64(m, a, v); err != nil {
			t.Fatalf("w64 %#x: %v", a, err)
		}
	}
	w16 := func(a uint64, v uint16) {
		if err := m.CopyOut(a, []byte{byte(v), byte(v >> 8)}); err != nil {
			t.Fatal(err)
		}
	}
	// IOPL 3, IF clear, NT, VM, ID, plus the user bits OF, DF, AC.
	w64(sc+scEflags, 0x3000|1<<14|1<<17|1<<21|flagOF|flagDF|flagAC)
	w16(sc+scCS, 0x08) // kernel code
	w16(sc+scSS, 0x10)
	w64(pl.Frame+frameUC+ucSigmask, ^uint64(0))
	fp := pl.FPState
	// Extended state Linux's XRSTOR from the frame refuses with #GP
	// fails the call; what it accepts is returned in standard form.
	good := make([]byte, xsaveFPU.Size+FPXstateMagic2Size)
	if err := m.CopyIn(fp, good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name string
		off  uint64
		val  uint64
	}{
		{"MXCSR reserved bit", fxMXCSR, 0x1f80 | 1<<16},
		{"XSTATE_BV beyond XCR0", xsaveHeader, 1 << 9},
		{"XCOMP_BV without the compacted bit", xsaveHeader + 8, 1},
		{"compacted XCOMP_BV beyond XCR0", xsaveHeader + 8, 1<<63 | 1<<9},
		{"compacted XCOMP_BV lacking XSTATE_BV's bits", xsaveHeader + 8, 1<<63 | 1},
		{"reserved header bytes", xsaveHeader + 16, 0xdead_beef_dead},
	} {
		w64(fp+bad.off, bad.val)
		// Linux has loaded the registers and mask when it finds the
		// state bad.
		if ctx, err := Restore(m, h, xsaveFPU); !errors.Is(err, ErrBadFrame) || !ctx.Loaded || ctx.Mask != ^uint64(unblockable) || ctx.Regs.RFLAGS != 0x202|flagOF|flagDF|flagAC {
			t.Errorf("%s: Restore = %v, loaded %v, mask %#x, RFLAGS %#x; want ErrBadFrame with the frame's registers and mask", bad.name, err, ctx.Loaded, ctx.Mask, ctx.Regs.RFLAGS)
		}
		if err := m.CopyOut(fp, good); err != nil {
			t.Fatal(err)
		}
	}
	w64(fp+fxMXCSR, 0x1f80|1<<6)     // DAZ, within MXCSR_MASK
	w64(fp+xsaveHeader+8, 1<<63|0x7) // compacted form
	ctx, err := Restore(m, h, xsaveFPU)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Regs.RFLAGS != 0x202|flagOF|flagDF|flagAC || ctx.Regs.CS != 0x0b || ctx.Regs.SS != 0x13 {
		t.Errorf("RFLAGS %#x CS %#x SS %#x, want %#x 0x0b 0x13", ctx.Regs.RFLAGS, ctx.Regs.CS, ctx.Regs.SS, 0x202|flagOF|flagDF|flagAC)
	}
	if gp, code := ReturnFault(ctx.Regs); !gp || code != 0x08 {
		t.Errorf("kernel CS 0x08 in the frame: ReturnFault %v %#x, want #GP(0x08)", gp, code)
	}
	if ctx.Mask != ^uint64(unblockable) {
		t.Errorf("mask %#x, want all but SIGKILL and SIGSTOP", ctx.Mask)
	}
	// SS: strict (as Build writes uc_flags) a bad one faults; without
	// UC_STRICT_RESTORE_SS it becomes the user SS, but only under the
	// user CS (force_valid_ss).
	for _, c := range []struct {
		cs, flags uint64
		ss        uint64
	}{
		{UserCS, UCSigcontextSS | UCStrictRestoreSS, 0x13},
		{UserCS, UCSigcontextSS, UserSS},
		{UserCS &^ 3, 0, UserSS},
		{0x0b, UCSigcontextSS, 0x13},
	} {
		w16(sc+scCS, uint16(c.cs))
		w64(pl.Frame+frameUC+ucFlags, c.flags)
		ctx, err := Restore(m, h, xsaveFPU)
		gp, code := ReturnFault(ctx.Regs)
		want := uint64(0x10)
		if c.cs|3 != UserCS {
			want = c.cs &^ 3
		}
		if err != nil || ctx.Regs.SS != c.ss || gp != (want != 0x10 || c.ss != UserSS) || gp && code != want {
			t.Errorf("CS %#x SS 0x10 uc_flags %#x: %v, SS %#x, ReturnFault %v %#x; want SS %#x", c.cs, c.flags, err, ctx.Regs.SS, gp, code, c.ss)
		}
	}
	w16(sc+scCS, UserCS)
	w16(sc+scSS, UserSS)
	w64(pl.Frame+frameUC+ucFlags, UCFPXstate|UCSigcontextSS|UCStrictRestoreSS)
	le := binary.LittleEndian
	if mx := le.Uint32(ctx.FPState[fxMXCSR:]); mx != 0x1fc0 {
		t.Errorf("MXCSR = %#x, want 0x1fc0", mx)
	}
	if !bytes.Equal(ctx.FPState[xsaveHeader:xsaveHeader+xsaveHeaderSize], append([]byte{byte(xsaveFPU.Features)}, make([]byte, 63)...)) {
		t.Errorf("XSAVE header = % x, want XSTATE_BV %#x and zeros", ctx.FPState[xsaveHeader:xsaveHeader+xsaveHeaderSize], xsaveFPU.Features&7)
	}
	// Misaligned for XRSTOR: a copy 16 bytes on.
	if err := m.CopyOut(fp+0x40+16, good); err == nil {
		w64(sc+scFpstate, fp+0x40+16)
		if _, err := Restore(m, h, xsaveFPU); !errors.Is(err, ErrBadFrame) {
			t.Errorf("fpstate 16 bytes off 64-byte alignment: Restore = %v, want ErrBadFrame", err)
		}
		w64(sc+scFpstate, fp)
	}

	// A broken magic2 keeps only the legacy region (x87 and SSE).
	w64(fp+832, 0)
	ctx, err = Restore(m, h, xsaveFPU)
	if err != nil {
		t.Fatal(err)
	}
	if bv := le.Uint64(ctx.FPState[xsaveHeader:]); bv != 3 || !bytes.Equal(ctx.FPState[XSaveMinSize:], make([]byte, 832-XSaveMinSize)) {
		t.Errorf("without magic2: XSTATE_BV %#x, extended components not reset", bv)
	}
	// An xstate_size larger than the machine's is not trusted either.
	w64(fp+832, FPXstateMagic2)
	if err := mem.WriteUint32(m, fp+fxSWBytes+swXstateSize, 4096); err != nil {
		t.Fatal(err)
	}
	if ctx, err = Restore(m, h, xsaveFPU); err != nil || le.Uint64(ctx.FPState[xsaveHeader:]) != 3 {
		t.Errorf("oversized xstate_size: %v, XSTATE_BV %#x, want 3", err, le.Uint64(ctx.FPState[xsaveHeader:]))
	}

	for _, rip := range []uint64{1 << 47, 0xffff_7fff_ffff_ffff, 0x8000_0000_0000_0000} {
		w64(sc+scRIP, rip)
		ctx, err := Restore(m, h, xsaveFPU)
		if gp, code := ReturnFault(ctx.Regs); err != nil || !gp || code != 0 {
			t.Errorf("Restore with RIP %#x = %v, ReturnFault %v %#x; want #GP(0)", rip, err, gp, code)
		}
	}
	for _, rip := range []uint64{0xffff_8000_0000_0000, ^uint64(0)} {
		w64(sc+scRIP, rip)
		ctx, err := Restore(m, h, xsaveFPU)
		if gp, _ := ReturnFault(ctx.Regs); err != nil || gp {
			t.Errorf("Restore with the canonical kernel RIP %#x = %v, ReturnFault %v; entering it faults later", rip, err, gp)
		}
	}
	w64(sc+scRIP, 1<<47-1)
	if _, err := Restore(m, h, xsaveFPU); err != nil {
		t.Errorf("Restore with the highest user RIP = %v", err)
	}

	// Frames on unmapped memory fault.
	w64(sc+scFpstate, 0x1000)
	if _, err := Restore(m, h, xsaveFPU); !errors.Is(err, mem.ErrFault) {
		t.Errorf("Restore with a bad fpstate pointer = %v, want a fault", err)
	}
	h.RSP = 0x100
	if ctx, err := Restore(m, h, xsaveFPU); !errors.Is(err, mem.ErrFault) || ctx.Loaded {
		t.Errorf("Restore with a bad RSP = %v, loaded %v; want a fault with nothing loaded", err, ctx.Loaded)
	}
}

// TestReturnFault: the #GP of Linux's IRETQ to restored selectors and
// RIP, as measured on Linux 6.18 (north/testdata/probe2, sr- cases).
func TestReturnFault(t *testing.T) {
	for _, c := range []struct {
		cs, ss, rip uint64
		gp          bool
		code        uint64
	}{
		{UserCS, UserSS, 0x401000, false, 0},
		{UserCS, UserSS, 1<<47 - 1, false, 0},
		{UserCS, UserSS, 0xffff_ffff_8100_0000, false, 0}, // enters, then #PF
		{UserCS, UserSS, 1 << 47, true, 0},
		{0x13, UserSS, 0x401000, true, 0x10},
		{0x03, UserSS, 0x401000, true, 0},
		{0xfff3, UserSS, 0x401000, true, 0xfff0},
		{0x37, UserSS, 0x401000, true, 0x34}, // LDT CS: the selector
		{0x23, UserSS, 0x401000, true, 0x20}, // no 32-bit code segment
		{UserSS, UserSS, 0x401000, true, 0x28},
		{UserCS, 0x03, 0x401000, true, 0},
		{UserCS, UserCS, 0x401000, true, 0x30},
		{UserCS, 0x7b, 0x401000, true, 0x78},
		{UserCS, 0xfff3, 1 << 47, true, 0xfff0},
		{UserCS, 0x2f, 0x401000, true, 0}, // LDT SS: espfix64's #GP(0)
		{UserCS, 0xffff, 0x401000, true, 0},
		{0x13, 0x07, 0x401000, true, 0},
		{0x13, 0xfff3, 1 << 47, true, 0x10},
	} {
		gp, code := ReturnFault(Regs{CS: c.cs, SS: c.ss, RIP: c.rip})
		if gp != c.gp || code != c.code {
			t.Errorf("CS %#x SS %#x RIP %#x: ReturnFault %v %#x, want %v %#x", c.cs, c.ss, c.rip, gp, code, c.gp, c.code)
		}
	}
}

func TestBuildFaults(t *testing.T) {
	m := mem.NewFake(0x10000, 0x1000)
	d := &Delivery{Info: SigInfo{Signo: linux.SigSegv}}
	if _, _, err := Build(m, Regs{RSP: 0x10100}, d); !errors.Is(err, mem.ErrFault) {
		t.Errorf("Build on an unmapped stack = %v, want a fault", err)
	}
	d = &Delivery{FPU: FPU{XSave: true, Size: 100}, FPState: make([]byte, 100)}
	if _, _, err := Build(m, Regs{RSP: 0x11000}, d); err == nil {
		t.Errorf("Build with an impossible XSAVE size succeeded")
	}
	d = &Delivery{FPU: xsaveFPU, FPState: make([]byte, 512)}
	if _, _, err := Build(m, Regs{RSP: 0x11000}, d); err == nil {
		t.Errorf("Build with a short FP state succeeded")
	}
}

func TestSigInfoLayouts(t *testing.T) {
	tests := []struct {
		info   SigInfo
		layout Layout
		words  map[int]uint64 // offset -> 32- or 64-bit value expected
	}{
		{SigInfo{Signo: linux.SigSegv, Code: linux.SegvAccerr, Addr: 0xdead0}, LayoutFault, map[int]uint64{16: 0xdead0}},
		{SigInfo{Signo: linux.SigBus, Code: linux.BusAdrerr, Addr: 0x1000}, LayoutFault, map[int]uint64{16: 0x1000}},
		{SigInfo{Signo: linux.SigFpe, Code: linux.FpeIntdiv, Addr: 0x401000}, LayoutFault, map[int]uint64{16: 0x401000}},
		{SigInfo{Signo: linux.SigIll, Code: linux.IllIllopn, Addr: 0x401000}, LayoutFault, map[int]uint64{16: 0x401000}},
		{SigInfo{Signo: linux.SigUrg, Code: linux.SiTkill, Pid: 7, UID: 1000}, LayoutRT, map[int]uint64{16: 1000<<32 | 7}},
		{SigInfo{Signo: linux.SigTerm, Code: linux.SiUser, Pid: 7, UID: 3}, LayoutKill, map[int]uint64{16: 3<<32 | 7}},
		{SigInfo{Signo: linux.SigSegv, Code: linux.SiKernel}, LayoutKill, nil},
		{SigInfo{Signo: linux.SigAlrm, Code: linux.SiTimer, TimerID: 2, Overrun: 1, Value: 0x55}, LayoutTimer, map[int]uint64{16: 1<<32 | 2, 24: 0x55}},
		{SigInfo{Signo: linux.SigChld, Code: linux.CldExited, Pid: 9, Status: 3, Utime: 4, Stime: 5}, LayoutChld, map[int]uint64{16: 9, 24: 3, 32: 4, 40: 5}},
		{SigInfo{Signo: linux.SigIO, Code: linux.PollIn, Band: 1, FD: 4}, LayoutPoll, map[int]uint64{16: 1, 24: 4}},
		{SigInfo{Signo: linux.SigSys, Code: linux.SysSeccomp, Addr: 0x401000, Syscall: 59, Arch: 0xc000003e}, LayoutSys, map[int]uint64{16: 0x401000, 24: 0xc000003e<<32 | 59}},
	}
	for _, tt := range tests {
		if l := tt.info.Layout(); l != tt.layout {
			t.Errorf("%+v: Layout = %d, want %d", tt.info, l, tt.layout)
		}
		b := tt.info.Marshal()
		le := binary.LittleEndian
		if int32(le.Uint32(b[0:])) != tt.info.Signo || int32(le.Uint32(b[8:])) != tt.info.Code {
			t.Errorf("%+v: header % x", tt.info, b[:16])
		}
		for off, v := range tt.words {
			if got := le.Uint64(b[off:]); got != v {
				t.Errorf("%+v: word at %d = %#x, want %#x", tt.info, off, got, v)
			}
		}
		if got := UnmarshalSigInfo(b); got != tt.info {
			t.Errorf("UnmarshalSigInfo(Marshal(%+v)) = %+v", tt.info, got)
		}
	}
}

// FuzzRestore runs rt_sigreturn over arbitrary frame contents: Restore
// must never panic, and whatever it accepts must be safe to resume.
func FuzzRestore(f *testing.F) {
	m := mem.NewFake(0x10000, 1<<16)
	d := &Delivery{Info: SigInfo{Signo: linux.SigSegv}, FPU: xsaveFPU, FPState: testFPState(xsaveFPU)}
	pl, _, err := Build(m, Regs{RSP: 0x20000, RIP: 0x401000, RFLAGS: 0x202}, d)
	if err != nil {
		f.Fatal(err)
	}
	// The fuzzer mutates the frame only: data is placed where Build put
	// the frame (so the pointers in it still point into it) in a 64 KiB
	// memory, and the stack pointer is relative to it. Mutating the whole
	// memory made each input it found interesting take its full
	// minimization time.
	window := pl.Frame - m.Base
	f.Add(bytes.Clone(m.Data[window:]), uint16(8), true)
	f.Add(make([]byte, 64), uint16(8), false)
	f.Fuzz(func(t *testing.T, data []byte, sp uint16, xsave bool) {
		m := &mem.Fake{Base: 0x10000, Data: make([]byte, 1<<16)}
		copy(m.Data[window:], data)
		fpu := FPU{Size: FXSaveSize, Features: 3}
		if xsave {
			fpu = xsaveFPU
		}
		cur := Regs{RSP: m.Base + window + uint64(sp), RFLAGS: 0x202, FSBase: 0x77}
		ctx, err := Restore(m, cur, fpu)
		if err != nil {
			return
		}
		r := ctx.Regs
		if gp, _ := ReturnFault(r); !gp && (r.RIP >= userAddrLimit && r.RIP < kernelAddrStart || r.CS != UserCS || r.SS != UserSS) || r.FSBase != 0x77 {
			t.Fatalf("Restore accepted RIP %#x CS %#x SS %#x FS base %#x", r.RIP, r.CS, r.SS, r.FSBase)
		}
		if r.RFLAGS&^UserFlags != 0x202 {
			t.Fatalf("Restore let the frame set RFLAGS %#x", r.RFLAGS)
		}
		if ctx.Mask&unblockable != 0 {
			t.Fatalf("Restore let the frame block SIGKILL or SIGSTOP: %#x", ctx.Mask)
		}
		if ctx.FPState == nil {
			return
		}
		le := binary.LittleEndian
		if len(ctx.FPState) != fpu.Size || le.Uint32(ctx.FPState[fxMXCSR:])&^defaultMXCSRMask != 0 {
			t.Fatalf("FP state of %d bytes, MXCSR %#x", len(ctx.FPState), le.Uint32(ctx.FPState[fxMXCSR:]))
		}
		if fpu.XSave {
			h := ctx.FPState[xsaveHeader : xsaveHeader+xsaveHeaderSize]
			if le.Uint64(h)&^fpu.Features != 0 || !bytes.Equal(h[8:], make([]byte, 56)) {
				t.Fatalf("XSAVE header % x", h)
			}
		}
	})
}

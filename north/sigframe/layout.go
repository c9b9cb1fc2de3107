// Package sigframe builds and reads the x86-64 Linux signal frame: the
// struct rt_sigframe a signal handler finds on its stack (return address,
// ucontext with the interrupted registers and signal mask, siginfo, and
// the FPU/extended state), exactly as Linux lays it out, so that
// unmodified programs — the Go runtime in particular, which turns SIGSEGV
// into a panic by editing the saved RIP and RSP — work under Cocoon.
//
// Build writes a frame when a signal is delivered; Restore reads it back
// for rt_sigreturn, treating everything in it as hostile.
package sigframe

// struct rt_sigframe (arch/x86/include/asm/sigframe.h, x86-64):
//
//	char __user *pretcode;  // return address: sa_restorer
//	struct ucontext uc;
//	struct siginfo info;
//	/* fp state follows here */
const (
	framePretcode = 0
	frameUC       = 8
	frameInfo     = frameUC + ucSize // 312
	frameSize     = frameInfo + siginfoSize
)

// struct ucontext (include/uapi/asm-generic/ucontext.h, used by
// arch/x86/include/uapi/asm/ucontext.h).
const (
	ucFlags    = 0
	ucLink     = 8
	ucStack    = 16                   // stack_t
	ucMcontext = ucStack + stackTSize // struct sigcontext, 40
	ucSigmask  = ucMcontext + scSize  // sigset_t, 296
	ucSize     = ucSigmask + 8        // 304
)

// stack_t (include/uapi/asm-generic/signal.h): ss_sp, int ss_flags (padded
// to 8), ss_size.
const (
	ssSP       = 0
	ssFlags    = 8
	ssSize     = 16
	stackTSize = 24
)

// struct sigcontext, x86-64 (arch/x86/include/uapi/asm/sigcontext.h).
const (
	scR8      = 0
	scR9      = 8
	scR10     = 16
	scR11     = 24
	scR12     = 32
	scR13     = 40
	scR14     = 48
	scR15     = 56
	scRDI     = 64
	scRSI     = 72
	scRBP     = 80
	scRBX     = 88
	scRDX     = 96
	scRAX     = 104
	scRCX     = 112
	scRSP     = 120
	scRIP     = 128
	scEflags  = 136
	scCS      = 144 // __u16
	scGS      = 146 // __u16
	scFS      = 148 // __u16
	scSS      = 150 // __u16 (__pad0 in old headers)
	scErr     = 152
	scTrapno  = 160
	scOldmask = 168
	scCR2     = 176
	scFpstate = 184 // struct _fpstate __user *
	scSize    = 256 // ends with __u64 reserved1[8]
)

// uc_flags bits (arch/x86/include/uapi/asm/ucontext.h).
const (
	// UCFPXstate: the fpstate is in XSAVE format, with the
	// _fpx_sw_bytes and FP_XSTATE_MAGIC2 below.
	UCFPXstate = 0x1
	// UCSigcontextSS: sigcontext.ss holds the saved SS.
	UCSigcontextSS = 0x2
	// UCStrictRestoreSS: rt_sigreturn restores SS exactly as saved.
	UCStrictRestoreSS = 0x4
)

// struct siginfo (include/uapi/asm-generic/siginfo.h): SI_MAX_SIZE bytes;
// si_signo, si_errno and si_code, then on 64-bit the union _sifields
// after __ARCH_SI_PREAMBLE_SIZE (4 * sizeof(int)) bytes.
const (
	siginfoSize = 128
	siSigno     = 0
	siErrno     = 4
	siCode      = 8
	siFields    = 16
	// _kill, _rt, _sigchld: pid_t _pid; uid_t _uid.
	siPid = siFields + 0
	siUID = siFields + 4
	// _rt, _timer: sigval_t _sigval.
	siValue = siFields + 8
	// _timer: int _tid; int _overrun.
	siTimerID = siFields + 0
	siOverrun = siFields + 4
	// _sigchld: int _status; clock_t _utime, _stime.
	siStatus = siFields + 8
	siUtime  = siFields + 16
	siStime  = siFields + 24
	// _sigfault: void __user *_addr.
	siAddr = siFields + 0
	// _sigpoll: long _band; int _fd.
	siBand = siFields + 0
	siFD   = siFields + 8
	// _sigsys: void __user *_call_addr; int _syscall; unsigned int _arch.
	siCallAddr = siFields + 0
	siSyscall  = siFields + 8
	siArch     = siFields + 12
)

// struct _fpstate_64 (arch/x86/include/uapi/asm/sigcontext.h): the 512-byte
// FXSAVE image (Intel SDM vol. 1, 10.5.1, table 10-2), whose last 48
// bytes (sw_reserved) software may use.
const (
	FXSaveSize  = 512
	fxMXCSR     = 24
	fxMXCSRMask = 28
	fxSWBytes   = 464 // struct _fpx_sw_bytes sw_reserved
)

// struct _fpx_sw_bytes (arch/x86/include/uapi/asm/sigcontext.h), at
// fxSWBytes inside the FXSAVE image.
const (
	swMagic1       = 0
	swExtendedSize = 4
	swXfeatures    = 8
	swXstateSize   = 16
	swSize         = 48 // ends with __u32 padding[7]
)

// Markers of an XSAVE-format fpstate (arch/x86/include/uapi/asm/sigcontext.h).
const (
	FPXstateMagic1     = 0x46505853 // "SXPF" in sw_reserved.magic1
	FPXstateMagic2     = 0x46505845 // "EXPF" after the XSAVE area
	FPXstateMagic2Size = 4
)

// XSAVE header, right after the legacy region (Intel SDM vol. 1, 13.4.2;
// struct xstate_header in arch/x86/include/asm/fpu/types.h): XSTATE_BV,
// XCOMP_BV, then 48 reserved bytes.
const (
	xsaveHeader     = FXSaveSize
	xsaveHeaderSize = 64
	// XSaveMinSize is the smallest XSAVE area: legacy region plus header.
	XSaveMinSize = FXSaveSize + xsaveHeaderSize
	// xfeatureFPSSE is XSTATE_BV's x87 and SSE bits (XFEATURE_MASK_FPSSE).
	xfeatureFPSSE = 0x3
)

// Stack placement (arch/x86/kernel/signal.c get_sigframe,
// arch/x86/kernel/fpu/signal.c fpu__alloc_mathframe).
const (
	// RedZone is skipped below the interrupted RSP: System V AMD64 ABI
	// 3.2.2, the 128 bytes below RSP belong to the interrupted function.
	RedZone = 128
	// fpAlign is the fpstate's alignment (XSAVE needs 64 bytes).
	fpAlign = 64
	// frameAlign is FRAME_ALIGNMENT: the frame sits at a 16-byte boundary
	// minus 8, so that at handler entry (RSP+8) % 16 == 0 as after a CALL
	// (System V AMD64 ABI 3.2.2).
	frameAlign = 16
)

// RFLAGS bits (Intel SDM vol. 1, 3.4.3; arch/x86/include/uapi/asm/processor-flags.h).
const (
	flagCF       = 1 << 0
	flagReserved = 1 << 1 // always one
	flagPF       = 1 << 2
	flagAF       = 1 << 4
	flagZF       = 1 << 6
	flagSF       = 1 << 7
	flagTF       = 1 << 8
	flagIF       = 1 << 9
	flagDF       = 1 << 10
	flagOF       = 1 << 11
	flagRF       = 1 << 16
	flagAC       = 1 << 18

	// UserFlags are the RFLAGS bits rt_sigreturn takes from the frame
	// (FIX_EFLAGS in arch/x86/kernel/signal_64.c); all others keep the
	// values they had at the system call.
	UserFlags = flagAC | flagOF | flagDF | flagTF | flagSF | flagZF | flagAF | flagPF | flagCF | flagRF
	// handlerClears are cleared on entry to a handler (handle_signal in
	// arch/x86/kernel/signal.c): DF per the ABI, RF and TF.
	handlerClears = flagDF | flagRF | flagTF
)

// Trap entry and exit. Every interrupt, exception and system call lands on
// a dedicated stack (IST1/IST2 via the TSS, or the SYSCALL stub's switch),
// never on a goroutine stack, and builds a cpu.Frame there. The Go handler
// ·trap may rewrite the frame (a context switch copies another thread's
// registers into it); the exit path then restores whatever the frame holds.
//
// Extended state: interrupts and exceptions can strike anywhere, so their
// stub saves the interrupted context's x87/SSE/AVX state (XSAVE, or FXSAVE
// without XSAVE) to ·fpArea before any Go code runs and sets ·fpRestore.
// A system call from the kernel's Go runtime comes from an ABI0 assembly
// function, after which Go assumes every vector register clobbered, so
// there is nothing to save. ·trap leaves in ·fpArea/·fpRestore the area to
// restore for the context it returns to.

#include "textflag.h"
#include "cpu/layout.h"

// XSAVE64/XRSTOR64/FXSAVE64/FXRSTOR64 (CX): REX.W 0F AE /4, /5, /0, /1.
#define XSAVE_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x21
#define XRSTOR_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x29
#define FXSAVE_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x01
#define FXRSTOR_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x09

// RESTORE_FP_AREA restores the whole extended state from fpArea: XRSTOR
// of every component (EDX:EAX = all ones) or FXRSTOR. The label done
// must follow it; fx is a label local to the caller. Clobbers AX, CX, DX.
#define RESTORE_FP_AREA(fx, done) \
	MOVQ ·fpArea(SB), CX; \
	MOVL $-1, AX; \
	MOVL $-1, DX; \
	CMPB ·useXSAVE(SB), $0; \
	JEQ fx; \
	XRSTOR_CX; \
	JMP done; \
fx: \
	FXRSTOR_CX

// SAVE_SEL puts DS, ES, FS and GS in AX, 16 bits each in that order
// (UserRegs.sel): MOV from each (8C /r) into DX or AX. Clobbers DX.
#define SAVE_SEL \
	BYTE $0x8c; BYTE $0xea; \
	MOVWQZX DX, DX; \
	SHLQ $16, DX; \
	BYTE $0x8c; BYTE $0xe0; \
	MOVWQZX AX, AX; \
	ORQ AX, DX; \
	SHLQ $16, DX; \
	BYTE $0x8c; BYTE $0xc0; \
	MOVWQZX AX, AX; \
	ORQ AX, DX; \
	SHLQ $16, DX; \
	BYTE $0x8c; BYTE $0xd8; \
	MOVWQZX AX, AX; \
	ORQ DX, AX

// LOAD_FS_WANT loads FS base fsWant unless it is already loaded. The
// label done must follow it. Clobbers AX, CX, DX.
#define LOAD_FS_WANT(done) \
	MOVQ ·fsWant(SB), AX; \
	CMPQ AX, ·fsLoaded(SB); \
	JEQ done; \
	MOVQ AX, ·fsLoaded(SB); \
	MOVQ AX, DX; \
	SHRQ $32, DX; \
	MOVL $MSR_FS_BASE, CX; \
	WRMSR

// trapCommon is where every vector stub goes. The interrupted context
// chose RFLAGS.DF and RFLAGS.AC: the gate cleared IF, TF, NT and RF (AMD
// APM vol. 2, 8.9.3) but not those, and Go code assumes DF clear (REP
// MOVS forwards) while AC set would lift SMAP. So CLD, and CLAC where
// SMAP exists (CLAC is #UD without it).
TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSH_GPRS
	CLD
	CMPB ·haveSMAP(SB), $0
	JEQ fs
	CLAC
fs:
	TESTQ $3, F_CS(SP)
	JZ kernel
	// From user mode: FS holds the application's TLS base; Go's ABI
	// wrappers need a kernel TLS block at -8(FS).
	CALL ·loadTrapTLS(SB)
	JMP ·trapSaveUserFP(SB)
kernel:
	// From kernel mode, FS is decided from the MSR itself, not from CS
	// (Linux's "paranoid entry"): an NMI or #MC can strike between the
	// exit path's WRMSR of an application's FS base and its SYSRETQ or
	// IRETQ, or before the SYSCALL fast path reloads the kernel's. Then
	// run with the kernel thread's TLS and put back on the way out both
	// the FS base found and what ·fsLoaded said (see ·windowTrap).
	MOVL $MSR_FS_BASE, CX
	RDMSR
	SHLQ $32, DX
	ORQ DX, AX
	CMPQ AX, ·kernelFS(SB)
	JEQ save
	MOVQ AX, ·windowFS(SB)
	MOVQ ·fsLoaded(SB), AX
	MOVQ AX, ·windowLoaded(SB)
	MOVB $1, ·inWindow(SB)
	MOVQ ·kernelFS(SB), AX
	MOVQ AX, ·fsLoaded(SB)
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
save:
	JMP ·trapSaveFP(SB)

// trapSaveFP saves the interrupted context's extended state to ·fpArea
// and loads the kernel's MXCSR (·kernelMXCSR); the exit path's XRSTOR or
// FXRSTOR puts the saved one back.
TEXT ·trapSaveFP(SB),NOSPLIT|NOFRAME,$0
	MOVQ ·fpArea(SB), CX
	MOVL $-1, AX
	MOVL $-1, DX
	CMPB ·useXSAVE(SB), $0
	JEQ fxsave
	XSAVE_CX
	JMP saved
fxsave:
	FXSAVE_CX
saved:
	LDMXCSR ·kernelMXCSR(SB)
	MOVB $1, ·fpRestore(SB)
	JMP ·trapDispatch(SB)

// trapSaveUserFP saves, for a trap from user mode, only the
// application's XMM0-15 and MXCSR, into its UserRegs (·userRegs), as the
// system-call fast path does, and leaves the rest of its extended state
// live in the CPU with the thread as ·fpOwner (lazyfp.go): while the
// thread runs in user mode ·fpOwner is 0 or that thread (enterUserAsm
// spills any other owner), so no one else's state is lost. The exit path
// restores just those registers when the trap returns straight to the
// application (·fpUser: a page fault served); userTrap clears ·fpUser
// when it hands the frame to the thread's goroutine. A full XSAVE and
// XRSTOR per page fault were most of its cost under TCG, where both move
// the area a word at a time through helpers.
TEXT ·trapSaveUserFP(SB),NOSPLIT|NOFRAME,$0
	MOVQ ·userRegs(SB), CX
	TESTQ CX, CX
	JNZ partial
	JMP ·trapSaveFP(SB) // no user thread: userTrap reports it
partial:
	MOVUPS X0, (UR_XMM+0)(CX)
	MOVUPS X1, (UR_XMM+16)(CX)
	MOVUPS X2, (UR_XMM+32)(CX)
	MOVUPS X3, (UR_XMM+48)(CX)
	MOVUPS X4, (UR_XMM+64)(CX)
	MOVUPS X5, (UR_XMM+80)(CX)
	MOVUPS X6, (UR_XMM+96)(CX)
	MOVUPS X7, (UR_XMM+112)(CX)
	MOVUPS X8, (UR_XMM+128)(CX)
	MOVUPS X9, (UR_XMM+144)(CX)
	MOVUPS X10, (UR_XMM+160)(CX)
	MOVUPS X11, (UR_XMM+176)(CX)
	MOVUPS X12, (UR_XMM+192)(CX)
	MOVUPS X13, (UR_XMM+208)(CX)
	MOVUPS X14, (UR_XMM+224)(CX)
	MOVUPS X15, (UR_XMM+240)(CX)
	STMXCSR UR_MXCSR(CX)
	LDMXCSR ·kernelMXCSR(SB)
	MOVQ $1, UR_FPMODE(CX)
	MOVQ CX, ·fpOwner(SB)
	MOVB $1, ·fpUser(SB)
	MOVB $0, ·fpRestore(SB)
	JMP ·trapDispatch(SB)

// loadTrapTLS points FS at the current kernel thread's TLS (·kernelFS),
// so that returning to that thread needs no second WRMSR (AX, CX, DX
// clobbered).
TEXT ·loadTrapTLS(SB),NOSPLIT|NOFRAME,$0
	MOVQ ·kernelFS(SB), AX
	MOVQ AX, ·fsLoaded(SB)
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
	MOVB $0, ·userMode(SB)
	RET

// syscallEntry is the LSTAR target. SYSCALL (AMD APM vol. 2, 6.1.1) left
// RCX = return RIP, R11 = RFLAGS, IF cleared by SFMASK, and did not switch
// stacks: switch to the trap stack and build a frame by hand. SYSCALL does
// not say which ring it came from; ·userMode does (set while the CPU runs
// the application).
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ SP, ·syscallRSP(SB)
	MOVQ ·trapStackTop(SB), SP
	CMPB ·userMode(SB), $0
	JNE user
	PUSHQ $KDATA
	PUSHQ ·syscallRSP(SB)
	PUSHQ R11
	PUSHQ $KCODE
	PUSHQ CX
	PUSHQ $0
	PUSHQ $256
	PUSH_GPRS
	MOVB $0, ·fpRestore(SB)
	JMP ·trapDispatch(SB)
user:
	// Fast path: the application's registers go straight into its
	// UserRegs (whose Frame has the trap-frame layout, layout.h), its
	// extended state into the UserRegs' area, and the thread's goroutine
	// resumes in runUser with ExitSyscall. SP serves as the base register;
	// interrupts stay off until runUser's STI.
	MOVQ ·userRegs(SB), SP
	MOVQ R15, 0(SP)
	MOVQ R14, 8(SP)
	MOVQ R13, 16(SP)
	MOVQ R12, 24(SP)
	MOVQ R11, 32(SP)
	MOVQ R10, 40(SP)
	MOVQ R9, 48(SP)
	MOVQ R8, 56(SP)
	MOVQ BP, 64(SP)
	MOVQ DI, 72(SP)
	MOVQ SI, 80(SP)
	MOVQ DX, 88(SP)
	MOVQ CX, 96(SP)
	MOVQ BX, 104(SP)
	MOVQ AX, 112(SP)
	MOVQ $256, F_VECTOR(SP)
	MOVQ $0, F_ERR(SP)
	MOVQ CX, F_RIP(SP)
	MOVQ $UCODE, F_CS(SP)
	MOVQ R11, F_RFLAGS(SP)
	MOVQ ·syscallRSP(SB), AX
	MOVQ AX, F_RSP(SP)
	MOVQ $UDATA, F_SS(SP)
	// Only XMM0-15 and MXCSR: the rest stays live (fpOwner, lazyfp.go).
	MOVUPS X0, (UR_XMM+0)(SP)
	MOVUPS X1, (UR_XMM+16)(SP)
	MOVUPS X2, (UR_XMM+32)(SP)
	MOVUPS X3, (UR_XMM+48)(SP)
	MOVUPS X4, (UR_XMM+64)(SP)
	MOVUPS X5, (UR_XMM+80)(SP)
	MOVUPS X6, (UR_XMM+96)(SP)
	MOVUPS X7, (UR_XMM+112)(SP)
	MOVUPS X8, (UR_XMM+128)(SP)
	MOVUPS X9, (UR_XMM+144)(SP)
	MOVUPS X10, (UR_XMM+160)(SP)
	MOVUPS X11, (UR_XMM+176)(SP)
	MOVUPS X12, (UR_XMM+192)(SP)
	MOVUPS X13, (UR_XMM+208)(SP)
	MOVUPS X14, (UR_XMM+224)(SP)
	MOVUPS X15, (UR_XMM+240)(SP)
	STMXCSR UR_MXCSR(SP)
	LDMXCSR ·kernelMXCSR(SB)
	MOVQ $1, UR_FPMODE(SP)
	MOVQ SP, ·fpOwner(SB)
	// Back on the goroutine's stack: userKRSP points at enterUserAsm's
	// return address into runUser.
	MOVQ ·userKRSP(SB), SP
	MOVQ ·userKRBP(SB), BP
	JMP ·syscallFastTail(SB)

// syscallFastTail finishes the fast path on the goroutine's stack: FS
// back to the kernel thread's TLS (loadTrapTLS, inline), which the trap
// exit path is to keep, the time of the exit (UserRegs.ExitTSC), and
// RET into runUser with ExitSyscall.
TEXT ·syscallFastTail(SB),NOSPLIT|NOFRAME,$0
	MOVQ ·kernelFS(SB), AX
	MOVQ AX, ·fsLoaded(SB)
	MOVQ AX, ·fsWant(SB)
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
	MOVB $0, ·userMode(SB)
	MOVQ ·userRegs(SB), BX
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, UR_EXITTSC(BX)
	MOVQ ·kernelFPArea(SB), AX
	MOVQ AX, ·fpArea(SB)
	MOVQ $0, ·userRegs(SB)
	MOVQ $1, AX // exitSyscall
	RET

// trapDispatch calls ·trap(frame) and returns through the frame. The call
// is indirect on purpose: the linker's nosplit analysis assumes a goroutine
// stack's 800-byte margin below the entry stub's pushes, but this runs on
// the 32 KiB trap stack; ·trap's own chain is still checked from its start.
TEXT ·trapDispatch(SB),NOSPLIT|NOFRAME,$0
	MOVQ SP, AX
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	LEAQ ·trap(SB), BX
	CALL BX
	ADDQ $16, SP

	CMPB ·fpUser(SB), $0
	JEQ full
	MOVB $0, ·fpUser(SB)
	MOVQ ·userRegs(SB), CX
	LDMXCSR UR_MXCSR(CX)
	MOVUPS (UR_XMM+0)(CX), X0
	MOVUPS (UR_XMM+16)(CX), X1
	MOVUPS (UR_XMM+32)(CX), X2
	MOVUPS (UR_XMM+48)(CX), X3
	MOVUPS (UR_XMM+64)(CX), X4
	MOVUPS (UR_XMM+80)(CX), X5
	MOVUPS (UR_XMM+96)(CX), X6
	MOVUPS (UR_XMM+112)(CX), X7
	MOVUPS (UR_XMM+128)(CX), X8
	MOVUPS (UR_XMM+144)(CX), X9
	MOVUPS (UR_XMM+160)(CX), X10
	MOVUPS (UR_XMM+176)(CX), X11
	MOVUPS (UR_XMM+192)(CX), X12
	MOVUPS (UR_XMM+208)(CX), X13
	MOVUPS (UR_XMM+224)(CX), X14
	MOVUPS (UR_XMM+240)(CX), X15
	JMP fsbase
full:
	CMPB ·fpRestore(SB), $0
	JEQ fsbase
	RESTORE_FP_AREA(fxrstor, fsbase)
fsbase:
	CMPB ·inWindow(SB), $0
	JNE window
	LOAD_FS_WANT(regs)
	JMP regs
window:
	// Back into an exit window (trapCommon): the FS base and ·fsLoaded
	// it had.
	MOVB $0, ·inWindow(SB)
	MOVQ ·windowLoaded(SB), AX
	MOVQ AX, ·fsLoaded(SB)
	MOVQ ·windowFS(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
regs:
	POP_GPRS
	ADDQ $16, SP
	IRETQ

// idleLoop is the idle thread: wait for interrupts.
TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
	STI
again:
	HLT
	JMP again

// enterRuntime starts the kernel's Go runtime on the Linux initial stack
// at sp, with interrupts enabled.
TEXT ·enterRuntime(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ sp+0(FP), SP
	STI
	JMP _rt0_amd64_linux(SB)

// stubAddr returns the address of the i'th vector stub.
TEXT ·stubAddr(SB),NOSPLIT,$0-16
	MOVQ i+0(FP), AX
	LEAQ ·vectorStubs(SB), BX
	MOVQ (BX)(AX*8), AX
	MOVQ AX, ret+8(FP)
	RET

// funcAddr returns the entry address of idleLoop (0), syscallEntry (1)
// or userResume (2).
TEXT ·funcAddr(SB),NOSPLIT,$0-16
	MOVQ which+0(FP), AX
	CMPQ AX, $1
	JEQ sys
	JGT resume
	LEAQ ·idleLoop(SB), AX
	JMP out
sys:
	LEAQ ·syscallEntry(SB), AX
	JMP out
resume:
	LEAQ ·userResume(SB), AX
out:
	MOVQ AX, ret+8(FP)
	RET

// privcall makes a private system call (kernel/privcall.go). Errors come back
// as -errno in RAX, the Linux convention.
TEXT ·privcall(SB),NOSPLIT,$0-56
	MOVQ nr+0(FP), AX
	MOVQ a0+8(FP), DI
	MOVQ a1+16(FP), SI
	MOVQ a2+24(FP), DX
	MOVQ a3+32(FP), R10
	SYSCALL
	CMPQ AX, $0xfffffffffffff001
	JLS ok
	MOVQ $-1, r1+40(FP)
	NEGQ AX
	MOVQ AX, err+48(FP)
	RET
ok:
	MOVQ AX, r1+40(FP)
	MOVQ $0, err+48(FP)
	RET

// runUser runs the application thread with registers regs in address
// space space until it traps, and returns the exit kind.
TEXT ·runUser(SB),0,$24-24
	MOVQ regs+0(FP), AX
	MOVQ space+8(FP), BX
	CLI
	// Fast path: userEnter's work without a Go call when its checks are
	// known to pass: the space is the loaded one it last entered
	// (·enterSpace), RIP and the FS base are user addresses, and the
	// timer is armed to fire within a slice (armTimerUser does nothing).
	CMPQ BX, ·enterSpace(SB)
	JNE slow
	MOVQ $USER_END, CX
	CMPQ F_RIP(AX), CX
	JAE slow
	CMPQ UR_FSBASE(AX), CX
	JAE slow
	CMPQ ·armedAt(SB), $0
	JEQ slow
	CMPB ·armedInSlice(SB), $0
	JEQ slow
	MOVQ AX, ·userRegs(SB)
	MOVQ BX, ·userSpaceID(SB)
	MOVQ UR_FPOFF(AX), CX
	ADDQ AX, CX
	MOVQ CX, ·fpArea(SB)
	MOVQ UR_FSBASE(AX), CX
	MOVQ CX, ·fsWant(SB)
	MOVB $1, ·userMode(SB)
	JMP enter
slow:
	MOVQ AX, 0(SP)
	MOVQ BX, 8(SP)
	CALL ·userEnter(SB)
	MOVQ 16(SP), AX
	CMPQ AX, $0
	JNE done
	MOVQ regs+0(FP), AX
enter:
	CALL ·enterUserAsm(SB)
done:
	STI
	MOVQ AX, ret+16(FP)
	RET

// enterUserAsm enters user mode with the registers at AX (a *UserRegs).
// Its return address is the way back: a trap from user mode resumes with
// RSP = ·userKRSP and executes RET (userResume, or the SYSCALL fast path)
// with the exit kind in AX.
TEXT ·enterUserAsm(SB),NOSPLIT|NOFRAME,$0
	MOVQ SP, ·userKRSP(SB)
	MOVQ BP, ·userKRBP(SB)
	MOVQ AX, BX
	// Extended state: if this thread's state is still live (it left on
	// the system-call fast path and nothing else ran in user mode since),
	// only XMM0-15 and MXCSR come back; otherwise spill the live owner and
	// restore this thread's whole area.
	CMPQ ·fpOwner(SB), BX
	JNE fpslow
	LDMXCSR UR_MXCSR(BX)
	MOVUPS (UR_XMM+0)(BX), X0
	MOVUPS (UR_XMM+16)(BX), X1
	MOVUPS (UR_XMM+32)(BX), X2
	MOVUPS (UR_XMM+48)(BX), X3
	MOVUPS (UR_XMM+64)(BX), X4
	MOVUPS (UR_XMM+80)(BX), X5
	MOVUPS (UR_XMM+96)(BX), X6
	MOVUPS (UR_XMM+112)(BX), X7
	MOVUPS (UR_XMM+128)(BX), X8
	MOVUPS (UR_XMM+144)(BX), X9
	MOVUPS (UR_XMM+160)(BX), X10
	MOVUPS (UR_XMM+176)(BX), X11
	MOVUPS (UR_XMM+192)(BX), X12
	MOVUPS (UR_XMM+208)(BX), X13
	MOVUPS (UR_XMM+224)(BX), X14
	MOVUPS (UR_XMM+240)(BX), X15
	JMP fs
fpslow:
	CMPQ ·fpOwner(SB), $0
	JEQ fprestore
	CALL ·spillFP(SB)
fprestore:
	RESTORE_FP_AREA(fxr, fs)
fs:
	// The data segment selectors are the thread's (see ·selOwner): if
	// another thread's are loaded, they go back to its UserRegs and this
	// one's are loaded. Loading FS replaces the FS base, so ·fsLoaded no
	// longer names it and LOAD_FS_WANT below writes it. (Every value was
	// loaded at CPL3 before, or is 0: none faults at CPL0.)
	MOVQ ·selOwner(SB), CX
	CMPQ CX, BX
	JEQ seldone
	TESTQ CX, CX
	JZ selload
	SAVE_SEL
	MOVQ AX, UR_SEL(CX)
selload:
	MOVWLZX (UR_SEL+0)(BX), AX
	MOVW AX, DS
	MOVWLZX (UR_SEL+2)(BX), AX
	MOVW AX, ES
	MOVWLZX (UR_SEL+4)(BX), AX
	MOVW AX, FS
	MOVWLZX (UR_SEL+6)(BX), AX
	MOVW AX, GS
	MOVQ BX, ·selOwner(SB)
	MOVQ $0x8000000000000000, AX // no FS base: never canonical
	MOVQ AX, ·fsLoaded(SB)
seldone:
	// The time of entry, for CPU-time accounting (UserRegs.EnterTSC),
	// read before the exit window opens (trapCommon).
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, UR_ENTERTSC(BX)
	LOAD_FS_WANT(frame)
frame:
	// After a system call RCX and R11 hold the return RIP and RFLAGS (the
	// SYSCALL convention); if they still do, SYSRETQ returns (cheaper than
	// IRETQ); otherwise (a signal frame, rt_sigreturn, a fault) IRETQ
	// restores every register. RIP was checked canonical by userEnter, so
	// SYSRET cannot fault in ring 0 (AMD APM vol. 2, 6.1.1).
	// RFLAGS keeps only the bits an application may set (USER_FLAGS):
	// never IOPL, VM, VIF, VIP. With TF or RF set, IRETQ as Linux does:
	// SYSRETQ cannot restore RF, and with TF it would trap at once.
	MOVQ F_RFLAGS(BX), AX
	ANDQ $USER_FLAGS, AX
	ORQ $0x202, AX
	TESTQ $0x10100, AX
	JNZ iret
	MOVQ F_RIP(BX), CX
	CMPQ CX, 96(BX) // RCX
	JNE iret
	CMPQ AX, 32(BX) // R11
	JNE iret
	MOVQ 0(BX), R15
	MOVQ 8(BX), R14
	MOVQ 16(BX), R13
	MOVQ 24(BX), R12
	MOVQ AX, R11
	MOVQ 40(BX), R10
	MOVQ 48(BX), R9
	MOVQ 56(BX), R8
	MOVQ 64(BX), BP
	MOVQ 72(BX), DI
	MOVQ 80(BX), SI
	MOVQ 88(BX), DX
	MOVQ 112(BX), AX
	MOVQ F_RSP(BX), SP
	MOVQ 104(BX), BX
	BYTE $0x48; BYTE $0x0f; BYTE $0x07 // SYSRETQ (REX.W: return to 64-bit mode)
iret:
	// IRETQ frame (AMD APM vol. 2, 8.9.3): SS, RSP, RFLAGS, CS, RIP.
	PUSHQ $UDATA
	PUSHQ F_RSP(BX)
	PUSHQ AX
	PUSHQ $UCODE
	PUSHQ F_RIP(BX)
	MOVQ 0(BX), R15
	MOVQ 8(BX), R14
	MOVQ 16(BX), R13
	MOVQ 24(BX), R12
	MOVQ 32(BX), R11
	MOVQ 40(BX), R10
	MOVQ 48(BX), R9
	MOVQ 56(BX), R8
	MOVQ 64(BX), BP
	MOVQ 72(BX), DI
	MOVQ 80(BX), SI
	MOVQ 88(BX), DX
	MOVQ 96(BX), CX
	MOVQ 112(BX), AX
	MOVQ 104(BX), BX
	IRETQ

// userResume is where an interrupted application thread's goroutine
// resumes (see userTrap): RSP = ·userKRSP, so RET returns from
// enterUserAsm into runUser with the exit kind in AX.
TEXT ·userResume(SB),NOSPLIT|NOFRAME,$0
	RET

// spillFP saves the live extended state of ·fpOwner (a *UserRegs) into
// its area: a full XSAVE (FXSAVE) of the CPU, then XMM0-15 and MXCSR from
// the UserRegs' partial save, marked present in the XSAVE header
// (XSTATE_BV bits 0 and 1, Intel SDM vol. 1, 13.4.2) so XRSTOR loads
// them. Clears ·fpOwner. Clobbers AX, CX, DX, SI, X0.
TEXT ·spillFP(SB),NOSPLIT|NOFRAME,$0
	MOVQ ·fpOwner(SB), SI
	TESTQ SI, SI
	JZ done
	MOVQ UR_FPOFF(SI), CX
	ADDQ SI, CX
	MOVL $-1, AX
	MOVL $-1, DX
	CMPB ·useXSAVE(SB), $0
	JEQ fx
	XSAVE_CX
	ORQ $3, 512(CX)
	JMP patch
fx:
	FXSAVE_CX
patch:
	MOVL UR_MXCSR(SI), AX
	MOVL AX, 24(CX)
	MOVUPS (UR_XMM+0)(SI), X0
	MOVUPS X0, 160(CX)
	MOVUPS (UR_XMM+16)(SI), X0
	MOVUPS X0, 176(CX)
	MOVUPS (UR_XMM+32)(SI), X0
	MOVUPS X0, 192(CX)
	MOVUPS (UR_XMM+48)(SI), X0
	MOVUPS X0, 208(CX)
	MOVUPS (UR_XMM+64)(SI), X0
	MOVUPS X0, 224(CX)
	MOVUPS (UR_XMM+80)(SI), X0
	MOVUPS X0, 240(CX)
	MOVUPS (UR_XMM+96)(SI), X0
	MOVUPS X0, 256(CX)
	MOVUPS (UR_XMM+112)(SI), X0
	MOVUPS X0, 272(CX)
	MOVUPS (UR_XMM+128)(SI), X0
	MOVUPS X0, 288(CX)
	MOVUPS (UR_XMM+144)(SI), X0
	MOVUPS X0, 304(CX)
	MOVUPS (UR_XMM+160)(SI), X0
	MOVUPS X0, 320(CX)
	MOVUPS (UR_XMM+176)(SI), X0
	MOVUPS X0, 336(CX)
	MOVUPS (UR_XMM+192)(SI), X0
	MOVUPS X0, 352(CX)
	MOVUPS (UR_XMM+208)(SI), X0
	MOVUPS X0, 368(CX)
	MOVUPS (UR_XMM+224)(SI), X0
	MOVUPS X0, 384(CX)
	MOVUPS (UR_XMM+240)(SI), X0
	MOVUPS X0, 400(CX)
	MOVQ $0, UR_FPMODE(SI)
	MOVQ $0, ·fpOwner(SB)
done:
	RET

// saveSel returns DS, ES, FS and GS as UserRegs.sel holds them.
TEXT ·saveSel(SB),NOSPLIT,$0-8
	SAVE_SEL
	MOVQ AX, ret+0(FP)
	RET

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

TEXT ·trapCommon(SB),NOSPLIT|NOFRAME,$0
	PUSH_GPRS
	TESTQ $3, F_CS(SP)
	JZ save
	// From user mode: FS holds the application's TLS base; Go's ABI
	// wrappers need a kernel TLS block at -8(FS).
	CALL ·loadTrapTLS(SB)
save:
	JMP ·trapSaveFP(SB)

// trapSaveFP saves the interrupted context's extended state to ·fpArea.
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
	MOVB $1, ·fpRestore(SB)
	JMP ·trapDispatch(SB)

// loadTrapTLS points FS at the trap TLS block (AX, CX, DX clobbered).
TEXT ·loadTrapTLS(SB),NOSPLIT|NOFRAME,$0
	LEAQ ·trapTLS+64(SB), AX
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
	PUSHQ $UDATA
	PUSHQ ·syscallRSP(SB)
	PUSHQ R11
	PUSHQ $UCODE
	PUSHQ CX
	PUSHQ $0
	PUSHQ $256
	PUSH_GPRS
	CALL ·loadTrapTLS(SB)
	JMP ·trapSaveFP(SB)

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

	CMPB ·fpRestore(SB), $0
	JEQ fsbase
	MOVQ ·fpArea(SB), CX
	MOVL $-1, AX
	MOVL $-1, DX
	CMPB ·useXSAVE(SB), $0
	JEQ fxrstor
	XRSTOR_CX
	JMP fsbase
fxrstor:
	FXRSTOR_CX
fsbase:
	MOVQ ·fsWant(SB), AX
	CMPQ AX, ·fsLoaded(SB)
	JEQ regs
	MOVQ AX, ·fsLoaded(SB)
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

// funcAddr returns the entry address of idleLoop (0) or syscallEntry (1).
TEXT ·funcAddr(SB),NOSPLIT,$0-16
	MOVQ which+0(FP), AX
	CMPQ AX, $0
	JNE 3(PC)
	LEAQ ·idleLoop(SB), AX
	JMP 2(PC)
	LEAQ ·syscallEntry(SB), AX
	MOVQ AX, ret+8(FP)
	RET

// privcall makes a private system call (kernel/user.go). Errors come back
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

// runUser enters user mode through the private call sysEnterUser.
TEXT ·runUser(SB),NOSPLIT,$0-24
	MOVQ regs+0(FP), DI
	MOVQ space+8(FP), SI
	MOVQ $1000, AX
	SYSCALL
	MOVQ AX, ret+16(FP)
	RET

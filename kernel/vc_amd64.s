// The #VC entry (vector 29, IST3). The CPU pushed the error code, which
// holds the exit code of the intercepted event. Trap context.

#include "textflag.h"
#include "cpu/layout.h"

// FXSAVE64/FXRSTOR64 (CX): REX.W 0F AE /0, /1.
#define FXSAVE_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x01
#define FXRSTOR_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x09

TEXT ·vcEntry(SB),NOSPLIT|NOFRAME,$0
	PUSHQ $29
	PUSH_GPRS
	// The handler is Go: it may use XMM registers (and zeroes X15, its
	// ABI's zero register) and MXCSR, which belong to the interrupted
	// context.
	// Go code assumes DF clear; the application may have set it.
	CLD
	MOVQ ·vcFX(SB), CX
	FXSAVE_CX
	LDMXCSR ·kernelMXCSR(SB) // FXRSTOR puts the interrupted one back
	// FS may be the application's (from user mode, or from an exit
	// window in kernel mode: decided from the MSR, not CS); Go's ABI
	// wrapper reads g from -8(FS), so point FS at the kernel thread's
	// TLS meanwhile.
	MOVB $0, ·vcSwitchedFS(SB)
	MOVL $MSR_FS_BASE, CX
	RDMSR
	SHLQ $32, DX
	ORQ DX, AX
	CMPQ AX, ·kernelFS(SB)
	JEQ kernel
	MOVB $1, ·vcSwitchedFS(SB)
	MOVQ AX, ·vcUserFS(SB)
	MOVQ ·kernelFS(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
kernel:
	MOVQ SP, AX
	SUBQ $16, SP
	MOVQ AX, 0(SP)
	LEAQ ·vcTrap(SB), BX
	CALL BX
	ADDQ $16, SP
	CMPB ·vcSwitchedFS(SB), $0
	JEQ restore
	MOVQ ·vcUserFS(SB), AX
	MOVQ AX, DX
	SHRQ $32, DX
	MOVL $MSR_FS_BASE, CX
	WRMSR
restore:
	MOVQ ·vcFX(SB), CX
	FXRSTOR_CX
	POP_GPRS
	ADDQ $16, SP
	IRETQ

// vcEntryAddr returns the address of vcEntry.
TEXT ·vcEntryAddr(SB),NOSPLIT,$0-8
	LEAQ ·vcEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET

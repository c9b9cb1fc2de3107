#include "textflag.h"

// func vtlReturn(r *vtlcall.Regs, target uintptr)
//
// vtlcall.Regs offsets: Rax 0, Rbx 8, Rcx 16, Rdx 24, Rsi 32, Rdi 40,
// Rbp 48, R8 56, R9 64, R10 72, R11 80, R12 88, R13 96, R14 104, R15 112.
// Locals: 0(SP) r, 8(SP) VTL0's RDI while r is reloaded. The assembler's
// prologue saves VTL1's BP, and its epilogue restores it.
TEXT ·vtlReturn(SB),NOSPLIT,$16-16
	MOVQ	r+0(FP), DI
	MOVQ	target+8(FP), AX
	MOVQ	DI, 0(SP)
	MOVQ	8(DI), BX
	MOVQ	24(DI), DX
	MOVQ	32(DI), SI
	MOVQ	48(DI), BP
	MOVQ	56(DI), R8
	MOVQ	64(DI), R9
	MOVQ	72(DI), R10
	MOVQ	80(DI), R11
	MOVQ	88(DI), R12
	MOVQ	96(DI), R13
	MOVQ	104(DI), R14
	MOVQ	112(DI), R15
	MOVQ	40(DI), DI
	XORL	CX, CX
	CALL	AX
	MOVQ	DI, 8(SP)
	MOVQ	0(SP), DI
	MOVQ	AX, 0(DI)
	MOVQ	BX, 8(DI)
	MOVQ	CX, 16(DI)
	MOVQ	DX, 24(DI)
	MOVQ	SI, 32(DI)
	MOVQ	BP, 48(DI)
	MOVQ	R8, 56(DI)
	MOVQ	R9, 64(DI)
	MOVQ	R10, 72(DI)
	MOVQ	R11, 80(DI)
	MOVQ	R12, 88(DI)
	MOVQ	R13, 96(DI)
	MOVQ	R14, 104(DI)
	MOVQ	R15, 112(DI)
	MOVQ	8(SP), AX
	MOVQ	AX, 40(DI)
	RET

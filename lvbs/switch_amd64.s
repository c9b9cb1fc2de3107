#include "textflag.h"

// XSAVE64 and XRSTOR64 of the area at CX, with the feature mask in EDX:EAX
// (REX.W 0F AE /4 and /5: Intel SDM vol. 2, XSAVE, XRSTOR).
#define XSAVE_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x21
#define XRSTOR_CX BYTE $0x48; BYTE $0x0F; BYTE $0xAE; BYTE $0x29

// MOV to and from CR2 and the debug registers with RAX (0F 22 /r, 0F 20
// /r, 0F 23 /r, 0F 21 /r, ModRM 11 reg 000: Intel SDM vol. 2, MOV-Move
// to/from Control Registers, Debug Registers), as bytes: the assembler
// takes only some of the debug registers by name.

// func vtlReturn(r *vtlcall.Regs, target uintptr, fp *fpAreas, dbg *DebugRegs)
//
// vtlcall.Regs offsets: Rax 0, Rbx 8, Rcx 16, Rdx 24, Rsi 32, Rdi 40,
// Rbp 48, R8 56, R9 64, R10 72, R11 80, R12 88, R13 96, R14 104, R15 112.
// fpAreas: vtl0 0, vtl1 8. DebugRegs: CR2 0, DR0 8, DR1 16, DR2 24, DR3
// 32, DR6 40. Locals: 0(SP) r, 8(SP) VTL0's RDI while r is
// reloaded, 16(SP) fp. The assembler's prologue saves VTL1's BP, and its
// epilogue restores it. EDX:EAX = all ones: every feature XCR0 enables.
TEXT ·vtlReturn(SB),NOSPLIT,$24-32
	MOVQ	r+0(FP), DI
	MOVQ	DI, 0(SP)
	MOVQ	fp+16(FP), SI
	MOVQ	SI, 16(SP)
	MOVL	$-1, AX
	MOVL	$-1, DX
	MOVQ	8(SI), CX
	XSAVE_CX
	MOVQ	0(SI), CX
	XRSTOR_CX
	// VTL0's CR2 and debug registers, last before the call: nothing on
	// the way may fault.
	MOVQ	dbg+24(FP), BX
	TESTQ	BX, BX
	JZ	nodbgin
	MOVQ	0(BX), AX
	BYTE $0x0F; BYTE $0x22; BYTE $0xD0 // MOV CR2, RAX
	MOVQ	8(BX), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xC0 // MOV DR0, RAX
	MOVQ	16(BX), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xC8 // MOV DR1, RAX
	MOVQ	24(BX), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xD0 // MOV DR2, RAX
	MOVQ	32(BX), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xD8 // MOV DR3, RAX
	MOVQ	40(BX), AX
	BYTE $0x0F; BYTE $0x23; BYTE $0xF0 // MOV DR6, RAX
nodbgin:
	MOVQ	target+8(FP), AX
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
	// VTL0's CR2 and debug registers as it entered, first after the
	// general registers.
	MOVQ	dbg+24(FP), BX
	TESTQ	BX, BX
	JZ	nodbgout
	BYTE $0x0F; BYTE $0x20; BYTE $0xD0 // MOV RAX, CR2
	MOVQ	AX, 0(BX)
	BYTE $0x0F; BYTE $0x21; BYTE $0xC0 // MOV RAX, DR0
	MOVQ	AX, 8(BX)
	BYTE $0x0F; BYTE $0x21; BYTE $0xC8 // MOV RAX, DR1
	MOVQ	AX, 16(BX)
	BYTE $0x0F; BYTE $0x21; BYTE $0xD0 // MOV RAX, DR2
	MOVQ	AX, 24(BX)
	BYTE $0x0F; BYTE $0x21; BYTE $0xD8 // MOV RAX, DR3
	MOVQ	AX, 32(BX)
	BYTE $0x0F; BYTE $0x21; BYTE $0xF0 // MOV RAX, DR6
	MOVQ	AX, 40(BX)
nodbgout:
	MOVQ	16(SP), SI
	MOVL	$-1, AX
	MOVL	$-1, DX
	MOVQ	0(SI), CX
	XSAVE_CX
	MOVQ	8(SI), CX
	XRSTOR_CX
	RET

#include "textflag.h"

// func fpLoop(in, out *[16][32]byte, x87 *[2]float64, n int, avx bool)
// Loads XMM0-15 (YMM0-15 with avx) and two x87 registers from in/x87,
// makes n system calls (getpid, and sched_yield every 16th, so that other
// threads run in between), and stores the registers back to out and
// x87: across system calls, timer interrupts and other threads, the
// kernel must preserve every bit of them.
TEXT ·fpLoop(SB),NOSPLIT,$0-33
	MOVQ in+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ x87+16(FP), R13
	MOVQ n+24(FP), R12
	FMOVD 0(R13), F0
	FMOVD 8(R13), F0
	CMPB avx+32(FP), $0
	JEQ sseload
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU 128(SI), Y4
	VMOVDQU 160(SI), Y5
	VMOVDQU 192(SI), Y6
	VMOVDQU 224(SI), Y7
	VMOVDQU 256(SI), Y8
	VMOVDQU 288(SI), Y9
	VMOVDQU 320(SI), Y10
	VMOVDQU 352(SI), Y11
	VMOVDQU 384(SI), Y12
	VMOVDQU 416(SI), Y13
	VMOVDQU 448(SI), Y14
	VMOVDQU 480(SI), Y15
	JMP loop
sseload:
	MOVUPS 0(SI), X0
	MOVUPS 32(SI), X1
	MOVUPS 64(SI), X2
	MOVUPS 96(SI), X3
	MOVUPS 128(SI), X4
	MOVUPS 160(SI), X5
	MOVUPS 192(SI), X6
	MOVUPS 224(SI), X7
	MOVUPS 256(SI), X8
	MOVUPS 288(SI), X9
	MOVUPS 320(SI), X10
	MOVUPS 352(SI), X11
	MOVUPS 384(SI), X12
	MOVUPS 416(SI), X13
	MOVUPS 448(SI), X14
	MOVUPS 480(SI), X15
loop:
	MOVL $39, AX // getpid
	TESTQ $15, R12
	JNZ call
	MOVL $24, AX // sched_yield, every 16th call: let other threads run
call:
	SYSCALL
	DECQ R12
	JNZ loop
	FMOVDP F0, 8(R13)
	FMOVDP F0, 0(R13)
	CMPB avx+32(FP), $0
	JEQ ssestore
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)
	VMOVDQU Y8, 256(DI)
	VMOVDQU Y9, 288(DI)
	VMOVDQU Y10, 320(DI)
	VMOVDQU Y11, 352(DI)
	VMOVDQU Y12, 384(DI)
	VMOVDQU Y13, 416(DI)
	VMOVDQU Y14, 448(DI)
	VMOVDQU Y15, 480(DI)
	VZEROUPPER
	RET
ssestore:
	MOVUPS X0, 0(DI)
	MOVUPS X1, 32(DI)
	MOVUPS X2, 64(DI)
	MOVUPS X3, 96(DI)
	MOVUPS X4, 128(DI)
	MOVUPS X5, 160(DI)
	MOVUPS X6, 192(DI)
	MOVUPS X7, 224(DI)
	MOVUPS X8, 256(DI)
	MOVUPS X9, 288(DI)
	MOVUPS X10, 320(DI)
	MOVUPS X11, 352(DI)
	MOVUPS X12, 384(DI)
	MOVUPS X13, 416(DI)
	MOVUPS X14, 448(DI)
	MOVUPS X15, 480(DI)
	RET

// func hasAVX() bool: CPUID.1:ECX.AVX and OSXSAVE, and XCR0 enables YMM.
TEXT ·hasAVX(SB),NOSPLIT,$0-1
	MOVL $1, AX
	MOVL $0, CX
	CPUID
	MOVL CX, BX
	ANDL $0x18000000, BX
	CMPL BX, $0x18000000
	JNE no
	MOVL $0, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET

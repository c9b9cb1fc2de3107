#include "textflag.h"

#define CC16 BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC; BYTE $0xCC
#define CC256 CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16; CC16
#define CC4096 CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256; CC256

// func hypercallArea()
//
// Never called: 8 KiB of INT3 holding the page Hyper-V overlays with the
// hypercall page (machine.go).
TEXT ·hypercallArea(SB),NOSPLIT|NOFRAME,$0-0
	CC4096
	CC4096

// func hypercallAreaAddr() uintptr
TEXT ·hypercallAreaAddr(SB),NOSPLIT,$0-8
	LEAQ ·hypercallArea(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// func hypercall(page uintptr, control, in, out uint64) uint64
//
// TLFS hypercall-interface.md, "Hypercall Inputs": RCX control, RDX input
// GPA, R8 output GPA, result in RAX; the hypercall page may clobber the
// other volatile registers, which Go's ABI0 lets an assembly function
// clobber.
TEXT ·hypercall(SB),NOSPLIT,$0-40
	MOVQ page+0(FP), AX
	MOVQ control+8(FP), CX
	MOVQ in+16(FP), DX
	MOVQ out+24(FP), R8
	CALL AX
	MOVQ AX, ret+32(FP)
	RET

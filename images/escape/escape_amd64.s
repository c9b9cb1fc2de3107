#include "textflag.h"

TEXT ·hlt(SB),NOSPLIT,$0-0
	HLT
	RET

// WRMSR IA32_LSTAR (0xC0000082) := 0: would redirect every system call.
TEXT ·wrmsr(SB),NOSPLIT,$0-0
	MOVL $0xc0000082, CX
	MOVL $0, AX
	MOVL $0, DX
	WRMSR
	RET

TEXT ·loadCR3(SB),NOSPLIT,$0-0
	MOVQ $0, AX
	MOVQ AX, CR3
	RET

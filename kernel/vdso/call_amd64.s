#include "textflag.h"

// callClock calls a clock_gettime(clk, ts) function at fn with the System
// V calling convention (tests run the vDSO code on the host with it).
TEXT ·callClock(SB),NOSPLIT,$0-32
	MOVQ fn+0(FP), AX
	MOVQ clk+8(FP), DI
	MOVQ ts+16(FP), SI
	CALL AX
	MOVQ AX, ret+24(FP)
	RET

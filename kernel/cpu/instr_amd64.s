#include "textflag.h"

TEXT ·Inb(SB),NOSPLIT,$0-9
	MOVW port+0(FP), DX
	INB
	MOVB AX, ret+8(FP)
	RET

TEXT ·Outb(SB),NOSPLIT,$0-3
	MOVW port+0(FP), DX
	MOVB v+2(FP), AX
	OUTB
	RET

TEXT ·Inl(SB),NOSPLIT,$0-12
	MOVW port+0(FP), DX
	INL
	MOVL AX, ret+8(FP)
	RET

TEXT ·Outl(SB),NOSPLIT,$0-8
	MOVW port+0(FP), DX
	MOVL v+4(FP), AX
	OUTL
	RET

TEXT ·Rdmsr(SB),NOSPLIT,$0-16
	MOVL msr+0(FP), CX
	RDMSR
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+8(FP)
	RET

TEXT ·Wrmsr(SB),NOSPLIT,$0-16
	MOVL msr+0(FP), CX
	MOVQ v+8(FP), AX
	MOVQ AX, DX
	SHRQ $32, DX
	WRMSR
	RET

TEXT ·Cpuid(SB),NOSPLIT,$0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

TEXT ·Rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET

// RDRAND/RDSEED may transiently fail (CF=0); Intel SDM vol. 1, 7.3.17
// recommends retrying ten times.
TEXT ·Rdrand(SB),NOSPLIT,$0-9
	MOVL $10, CX
again:
	RDRANDQ AX
	JCS ok
	DECL CX
	JNZ again
	MOVQ $0, v+0(FP)
	MOVB $0, ok+8(FP)
	RET
ok:
	MOVQ AX, v+0(FP)
	MOVB $1, ok+8(FP)
	RET

TEXT ·Rdseed(SB),NOSPLIT,$0-9
	MOVL $100, CX
again:
	RDSEEDQ AX
	JCS ok
	PAUSE
	DECL CX
	JNZ again
	MOVQ $0, v+0(FP)
	MOVB $0, ok+8(FP)
	RET
ok:
	MOVQ AX, v+0(FP)
	MOVB $1, ok+8(FP)
	RET

TEXT ·Rcr2(SB),NOSPLIT,$0-8
	MOVQ CR2, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·Rcr3(SB),NOSPLIT,$0-8
	MOVQ CR3, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·Lcr3(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, CR3
	RET

TEXT ·Invlpg(SB),NOSPLIT,$0-8
	MOVQ va+0(FP), AX
	INVLPG (AX)
	RET

TEXT ·Lidt(SB),NOSPLIT,$0-8
	MOVQ desc+0(FP), AX
	LIDT (AX)
	RET

TEXT ·Lgdt(SB),NOSPLIT,$0-8
	MOVQ desc+0(FP), AX
	LGDT (AX)
	RET

TEXT ·Ltr(SB),NOSPLIT,$0-2
	MOVW sel+0(FP), AX
	LTR AX
	RET

TEXT ·Lldt(SB),NOSPLIT,$0-2
	MOVW sel+0(FP), AX
	LLDT AX
	RET

TEXT ·Halt(SB),NOSPLIT,$0-0
	CLI
loop:
	HLT
	JMP loop

TEXT ·Pause(SB),NOSPLIT,$0-0
	PAUSE
	RET

TEXT ·Rcr0(SB),NOSPLIT,$0-8
	MOVQ CR0, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·Lcr0(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, CR0
	RET

TEXT ·Rcr4(SB),NOSPLIT,$0-8
	MOVQ CR4, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·Lcr4(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, CR4
	RET

TEXT ·Rdr6(SB),NOSPLIT,$0-8
	MOVQ DR6, AX
	MOVQ AX, ret+0(FP)
	RET

TEXT ·Ldr6(SB),NOSPLIT,$0-8
	MOVQ v+0(FP), AX
	MOVQ AX, DR6
	RET

// VMGEXIT is REP VMMCALL (GHCB spec section 2.3.1; AMD APM vol. 3,
// "VMGEXIT"): F3 0F 01 D9.
TEXT ·Vmgexit(SB),NOSPLIT,$0-0
	BYTE $0xF3; BYTE $0x0F; BYTE $0x01; BYTE $0xD9
	RET

// PVALIDATE (AMD APM vol. 3, "PVALIDATE"): F2 0F 01 FF with RAX the
// virtual address, ECX the page size (0 4 KiB, 1 2 MiB), EDX 1 to
// validate or 0 to rescind; EAX returns the result, CF set means the RMP
// entry did not change.
TEXT ·Pvalidate(SB),NOSPLIT,$0-21
	MOVQ va+0(FP), AX
	XORL CX, CX
	MOVB huge+8(FP), CX
	XORL DX, DX
	MOVB validate+9(FP), DX
	BYTE $0xF2; BYTE $0x0F; BYTE $0x01; BYTE $0xFF
	SETCS BX
	MOVL AX, ret+16(FP)
	MOVB BX, unchanged+20(FP)
	RET

// XGETBV with ECX = 0: XCR0 (AMD APM vol. 3, "XGETBV"): 0F 01 D0.
TEXT ·Xgetbv0(SB),NOSPLIT,$0-8
	XORL CX, CX
	BYTE $0x0F; BYTE $0x01; BYTE $0xD0
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET

// FXSAVE64 of the current x87/SSE state to p, 16-byte aligned (AMD APM
// vol. 4, "FXSAVE").
TEXT ·Fxsave(SB),NOSPLIT,$0-8
	MOVQ p+0(FP), AX
	FXSAVE64 (AX)
	RET

TEXT ·IntrOff(SB),NOSPLIT,$0-8
	PUSHFQ
	POPQ AX
	CLI
	MOVQ AX, flags+0(FP)
	RET

TEXT ·IntrRestore(SB),NOSPLIT,$0-8
	MOVQ flags+0(FP), AX
	BTQ $9, AX
	JCC off
	STI
off:
	RET

TEXT ·FlushCache(SB),NOSPLIT,$0-16
	MOVQ va+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX
	ANDQ $~63, AX
flush:
	CMPQ AX, CX
	JAE done
	CLFLUSH (AX)
	ADDQ $64, AX
	JMP flush
done:
	MFENCE
	RET
